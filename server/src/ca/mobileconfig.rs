//! An iOS/iPadOS configuration profile (`.mobileconfig`) carrying the PKCS#12 (SPEC
//! §2.3). The certificate password is not in the profile: iOS asks for it while
//! installing, so the file alone is as useless as the PKCS#12 alone.

use base64::Engine;
use rand::{rngs::OsRng, TryRngCore};

use super::CaError;

/// A random (version 4) UUID, as profiles want one per payload.
fn uuid() -> Result<String, CaError> {
    let mut b = [0u8; 16];
    OsRng.try_fill_bytes(&mut b).map_err(|_| CaError::Random)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b).to_ascii_uppercase();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The profile for `user_id`'s certificate `serial`, holding `p12` (legacy encoding is
/// what older iOS releases import).
pub fn profile(p12: &[u8], user_id: &str, serial: &str) -> Result<String, CaError> {
    let data = base64::engine::general_purpose::STANDARD.encode(p12);
    let wrapped: Vec<&str> = data
        .as_bytes()
        .chunks(68)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    let user = xml(user_id);
    let id = format!("passgrid.certificate.{serial}");
    Ok(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>passgrid-{user}.p12</string>
			<key>PayloadContent</key>
			<data>
			{data}
			</data>
			<key>PayloadDescription</key>
			<string>Client certificate for signing in to passgrid</string>
			<key>PayloadDisplayName</key>
			<string>passgrid: {user}</string>
			<key>PayloadIdentifier</key>
			<string>{id}.pkcs12</string>
			<key>PayloadType</key>
			<string>com.apple.security.pkcs12</string>
			<key>PayloadUUID</key>
			<string>{inner}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
	</array>
	<key>PayloadDisplayName</key>
	<string>passgrid certificate for {user}</string>
	<key>PayloadIdentifier</key>
	<string>{id}</string>
	<key>PayloadRemovalDisallowed</key>
	<false/>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>{outer}</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>
</plist>
"#,
        data = wrapped.join("\n\t\t\t"),
        inner = uuid()?,
        outer = uuid()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_carries_the_file_and_escapes_the_user() {
        let text = profile(&[1, 2, 3], "a<b&c", "0a1b").unwrap();
        assert!(text.contains("<data>\n\t\t\tAQID\n\t\t\t</data>"));
        assert!(text.contains("passgrid: a&lt;b&amp;c"));
        assert!(text.contains("com.apple.security.pkcs12"));
        assert!(!text.contains("<key>Password</key>"));
        let a = uuid().unwrap();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, uuid().unwrap());
    }
}
