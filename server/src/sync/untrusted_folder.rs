//! File work inside a folder that other people can write to (a CSV drop folder, SPEC
//! §8.3). Whoever drops files there can also plant symbolic links, hard links, FIFOs
//! or a `done/` that points elsewhere, so every name is resolved relative to the
//! folder's open descriptor and never through a link: reads use `O_NOFOLLOW`, the
//! sub-folders are opened with `O_DIRECTORY | O_NOFOLLOW`, files are moved with
//! `RENAME_NOREPLACE` and reports are created with `O_CREAT | O_EXCL` (which never
//! follows a link). A planted link is never written through, whatever its target —
//! the master key included.

use std::{
    ffi::{OsStr, OsString},
    io::Read,
    os::{fd::OwnedFd, unix::ffi::OsStrExt},
    path::{Path, PathBuf},
};

use rustix::{
    fs::{
        fstat, mkdirat, openat, renameat_with, statat, AtFlags, Dir, FileType, Mode, OFlags,
        RenameFlags, Stat, CWD,
    },
    io::Errno,
};

/// Why a file was not read or could not be filed away; the text goes into the sync
/// report.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("{0} is a symbolic link")]
    Symlink(String),
    #[error("{0} is not a regular file")]
    NotRegular(String),
    #[error("{0} is not a directory")]
    NotDirectory(String),
    /// A second name for a file elsewhere (a hard link): it could be anything the
    /// server can read.
    #[error("{0} has other hard links")]
    HardLinked(String),
    #[error("{size} bytes is over the {max}-byte limit")]
    TooLarge { size: u64, max: u64 },
    #[error("{what}: {errno}")]
    Io { what: String, errno: Errno },
    #[error("no free name for {0}")]
    NoFreeName(String),
}

fn io(what: impl std::fmt::Display, errno: Errno) -> FolderError {
    FolderError::Io {
        what: what.to_string(),
        errno,
    }
}

/// What a folder entry is, as seen without following it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: OsString,
    pub size: u64,
    /// Modification time (seconds, nanoseconds).
    pub modified: (i64, u32),
    /// `None` for a plain regular file with one link; otherwise why it is refused
    /// unread.
    pub refusal: Option<Refusal>,
}

/// Why an entry is not read at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Symlink,
    /// A second name for a file elsewhere: it could be anything the server can read.
    HardLinked,
    NotRegular,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Symlink => "a symbolic link",
            Refusal::HardLinked => "a file with other hard links",
            Refusal::NotRegular => "not a regular file",
        }
    }
}

impl Entry {
    pub fn display_name(&self) -> String {
        self.name.to_string_lossy().to_string()
    }
}

fn refusal_of(stat: &Stat) -> Option<Refusal> {
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::Symlink => Some(Refusal::Symlink),
        FileType::RegularFile if stat.st_nlink > 1 => Some(Refusal::HardLinked),
        FileType::RegularFile => None,
        _ => Some(Refusal::NotRegular),
    }
}

/// An open folder that the server does not own.
pub struct UntrustedFolder {
    dir: OwnedFd,
    path: PathBuf,
}

impl UntrustedFolder {
    /// Opens the configured folder itself. Its own path is the administrator's
    /// configuration (it may be a link the administrator made); everything inside it
    /// is not.
    pub fn open(path: &Path) -> Result<UntrustedFolder, FolderError> {
        let dir = openat(
            CWD,
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io(format!("folder {}", path.display()), e))?;
        Ok(UntrustedFolder {
            dir,
            path: path.to_path_buf(),
        })
    }

    fn shown(&self, name: &OsStr) -> String {
        self.path.join(name).display().to_string()
    }

    /// The entries whose name ends in `.csv` (any case), as they are — links are
    /// listed, not followed.
    pub fn csv_entries(&self) -> Result<Vec<Entry>, FolderError> {
        let mut dir = Dir::read_from(&self.dir)
            .map_err(|e| io(format!("folder {}", self.path.display()), e))?;
        let mut entries = Vec::new();
        while let Some(item) = dir.read() {
            let item = item.map_err(|e| io(format!("folder {}", self.path.display()), e))?;
            let name = OsStr::from_bytes(item.file_name().to_bytes()).to_os_string();
            let is_csv = Path::new(&name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            if !is_csv {
                continue;
            }
            let stat = match statat(&self.dir, &name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => stat,
                // Gone between the listing and the look: nothing to do.
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(io(self.shown(&name), e)),
            };
            // A directory named `x.csv` is someone's folder, not a dropped file.
            if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
                continue;
            }
            entries.push(Entry {
                name,
                size: u64::try_from(stat.st_size).unwrap_or(0),
                modified: (stat.st_mtime, stat.st_mtime_nsec as u32),
                refusal: refusal_of(&stat),
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// Reads a regular file of the folder, at most `max` bytes: the name is not
    /// followed if it is a link, a FIFO does not block the open, and the size is
    /// checked on the open file before anything is read (and again while reading, in
    /// case the file grows).
    pub fn read_regular(&self, name: &OsStr, max: u64) -> Result<Vec<u8>, FolderError> {
        let fd = openat(
            &self.dir,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::LOOP => FolderError::Symlink(self.shown(name)),
            e => io(self.shown(name), e),
        })?;
        let stat = fstat(&fd).map_err(|e| io(self.shown(name), e))?;
        match refusal_of(&stat) {
            None => {}
            Some(Refusal::HardLinked) => return Err(FolderError::HardLinked(self.shown(name))),
            Some(_) => return Err(FolderError::NotRegular(self.shown(name))),
        }
        let size = u64::try_from(stat.st_size).unwrap_or(u64::MAX);
        if size > max {
            return Err(FolderError::TooLarge { size, max });
        }
        let mut bytes = Vec::with_capacity(size as usize);
        std::fs::File::from(fd)
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| FolderError::Io {
                what: self.shown(name),
                errno: Errno::from_io_error(&e).unwrap_or(Errno::IO),
            })?;
        if bytes.len() as u64 > max {
            return Err(FolderError::TooLarge {
                size: bytes.len() as u64,
                max,
            });
        }
        Ok(bytes)
    }

    /// The sub-folder `name` (made when missing and `create`), refused when it is a
    /// link or not a directory; `None` when it does not exist and is not to be made.
    pub fn subfolder(
        &self,
        name: &str,
        create: bool,
    ) -> Result<Option<UntrustedFolder>, FolderError> {
        if create {
            match mkdirat(&self.dir, name, Mode::from_raw_mode(0o750)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(io(self.shown(OsStr::new(name)), e)),
            }
        }
        let shown = format!("{}/", self.shown(OsStr::new(name)));
        match openat(
            &self.dir,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(dir) => Ok(Some(UntrustedFolder {
                dir,
                path: self.path.join(name),
            })),
            Err(Errno::NOENT) if !create => Ok(None),
            // O_NOFOLLOW on a link: ELOOP (ENOTDIR on some kernels with O_DIRECTORY).
            Err(Errno::LOOP) => Err(FolderError::Symlink(shown)),
            Err(Errno::NOTDIR) => match statat(&self.dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(s) if FileType::from_raw_mode(s.st_mode) == FileType::Symlink => {
                    Err(FolderError::Symlink(shown))
                }
                _ => Err(FolderError::NotDirectory(shown)),
            },
            Err(e) => Err(io(shown, e)),
        }
    }

    fn is_free(&self, name: &OsStr) -> Result<bool, FolderError> {
        match statat(&self.dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => Ok(false),
            Err(Errno::NOENT) => Ok(true),
            Err(e) => Err(io(self.shown(name), e)),
        }
    }

    /// Moves entry `name` into `dest` under a name that is free there together with
    /// its report (`NAME`, `NAME.1`, …; an existing file or link is never replaced),
    /// then writes the report as a new file. Returns the name it was filed under.
    pub fn file_away(
        &self,
        name: &OsStr,
        dest: &UntrustedFolder,
        report: &str,
    ) -> Result<OsString, FolderError> {
        for n in 0..1000u32 {
            let mut target = name.to_os_string();
            if n > 0 {
                target.push(format!(".{n}"));
            }
            let mut report_name = target.clone();
            report_name.push(".report.txt");
            if !dest.is_free(&target)? || !dest.is_free(&report_name)? {
                continue;
            }
            match renameat_with(&self.dir, name, &dest.dir, &target, RenameFlags::NOREPLACE) {
                Ok(()) => {}
                // Taken in the meantime: try the next name.
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(io(format!("moving {}", self.shown(name)), e)),
            }
            dest.create_new(&report_name, format!("{report}\n").as_bytes())?;
            return Ok(target);
        }
        Err(FolderError::NoFreeName(self.shown(name)))
    }

    /// Writes a new file; an existing name (a file, or a link to anything) is an error,
    /// never opened.
    fn create_new(&self, name: &OsStr, bytes: &[u8]) -> Result<(), FolderError> {
        use std::io::Write;
        let fd = openat(
            &self.dir,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o640),
        )
        .map_err(|e| io(self.shown(name), e))?;
        std::fs::File::from(fd)
            .write_all(bytes)
            .map_err(|e| FolderError::Io {
                what: self.shown(name),
                errno: Errno::from_io_error(&e).unwrap_or(Errno::IO),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("passgrid-untrusted-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn links_are_listed_refused_and_never_written_through() {
        let dir = scratch("links");
        let outside = dir.join("outside.txt");
        std::fs::write(&outside, "keep").unwrap();
        let inbox = dir.join("inbox");
        std::fs::create_dir_all(inbox.join("done")).unwrap();
        std::fs::write(inbox.join("a.csv"), "id\nx\n").unwrap();
        symlink(&outside, inbox.join("b.csv")).unwrap();
        symlink(&outside, inbox.join("done/a.csv.report.txt")).unwrap();
        std::fs::hard_link(&outside, inbox.join("c.csv")).unwrap();

        let folder = UntrustedFolder::open(&inbox).unwrap();
        let entries = folder.csv_entries().unwrap();
        let refusals: Vec<_> = entries.iter().map(|e| e.refusal).collect();
        assert_eq!(
            refusals,
            [None, Some(Refusal::Symlink), Some(Refusal::HardLinked)]
        );
        assert!(matches!(
            folder.read_regular(OsStr::new("b.csv"), 100),
            Err(FolderError::Symlink(_))
        ));
        assert!(matches!(
            folder.read_regular(OsStr::new("c.csv"), 100),
            Err(FolderError::HardLinked(_))
        ));
        assert!(matches!(
            folder.read_regular(OsStr::new("a.csv"), 3),
            Err(FolderError::TooLarge { size: 5, max: 3 })
        ));
        assert_eq!(
            folder.read_regular(OsStr::new("a.csv"), 100).unwrap(),
            b"id\nx\n"
        );

        let done = folder.subfolder("done", true).unwrap().unwrap();
        let filed = folder
            .file_away(OsStr::new("a.csv"), &done, "report")
            .unwrap();
        assert_eq!(filed, "a.csv.1", "the planted report name is left alone");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        assert_eq!(
            std::fs::read_to_string(inbox.join("done/a.csv.1.report.txt")).unwrap(),
            "report\n"
        );

        std::fs::create_dir_all(dir.join("elsewhere")).unwrap();
        symlink(dir.join("elsewhere"), inbox.join("failed")).unwrap();
        assert!(matches!(
            folder.subfolder("failed", true),
            Err(FolderError::Symlink(_))
        ));
        assert!(matches!(
            folder.subfolder("failed", false),
            Err(FolderError::Symlink(_))
        ));
        assert!(folder.subfolder("missing", false).unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
