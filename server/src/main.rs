//! passgrid: parse the command line, load the configuration, hand over.

use passgrid::{cli, config};

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let file = match config::FileConfig::load(cli.global.config.as_deref()) {
        Ok(file) => file,
        Err(err) => fail(&err.to_string()),
    };
    init_logging(&cli.global, &file);
    for name in config::unknown_env_vars() {
        tracing::warn!(
            variable = name,
            "unknown PASSGRID_* environment variable (misspelt?)"
        );
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => fail(&format!("cannot start the async runtime: {err}")),
    };
    if let Err(err) = runtime.block_on(cli::run(cli, file)) {
        fail(&err.0);
    }
}

fn fail(message: &str) -> ! {
    // One line, so scripts can show it as it is.
    eprintln!("passgrid: {}", message.replace('\n', " "));
    std::process::exit(1);
}

fn init_logging(global: &cli::GlobalArgs, file: &config::FileConfig) {
    use tracing_subscriber::{fmt, EnvFilter};
    let level = global
        .log_level
        .clone()
        .or_else(|| file.log.level.clone())
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info,sqlx=warn,tower_http=info".into());
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info"));
    let format = global.log_format.or(file.log.format).unwrap_or_default();
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        config::LogFormat::Json => builder.json().init(),
        config::LogFormat::Text => builder.init(),
    }
}
