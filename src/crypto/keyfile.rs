//! The master key file: one key a line, `<key id> <base64 of 32 bytes>`; the last line is the
//! current key. Created with mode 0600; written atomically (temp file, fsync, rename).

use super::secret_box::MasterKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::io::Write;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write key file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("key file {path} line {line} is not `<id> <base64 key>` of a 32-byte key")]
    Malformed { path: String, line: usize },
    #[error("key file {path} holds no key")]
    Empty { path: String },
    #[error(
        "key file {path} is open to group or others (mode {mode:04o}); anyone who can read it can decrypt every stored token. Run `chmod 600 {path}` (and make the server's user its owner), then start again"
    )]
    TooOpen { path: String, mode: u32 },
}

/// Refuse a key file that anyone but its owner may read or write.
#[cfg(unix)]
fn check_private(path: &Path, p: &str) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| KeyFileError::Read {
        path: p.to_string(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen {
            path: p.to_string(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path, _: &str) -> Result<(), KeyFileError> {
    Ok(())
}

/// The keys of the file at `path`, which only its owner may read (else [`KeyFileError::TooOpen`]).
pub fn load(path: &Path) -> Result<Vec<MasterKey>, KeyFileError> {
    let p = path.display().to_string();
    check_private(path, &p)?;
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
        path: p.clone(),
        source,
    })?;
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let malformed = || KeyFileError::Malformed {
            path: p.clone(),
            line: i + 1,
        };
        let (id, b64) = line.split_once(' ').ok_or_else(malformed)?;
        let bytes = STANDARD.decode(b64.trim()).map_err(|_| malformed())?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| malformed())?;
        keys.push(MasterKey::new(id.to_string(), key));
    }
    if keys.is_empty() {
        return Err(KeyFileError::Empty { path: p });
    }
    Ok(keys)
}

/// Load the key file, creating it with a fresh key if absent. Returns the keys and whether the
/// file was created now.
pub fn load_or_create(path: &Path) -> Result<(Vec<MasterKey>, bool), KeyFileError> {
    if path.exists() {
        return Ok((load(path)?, false));
    }
    let key = MasterKey::generate();
    save(path, std::slice::from_ref(&key))?;
    Ok((vec![key], true))
}

/// The keys of `before` that `after` no longer has, then `after` (whose last stays the current
/// key): a backup taken between two readings of the key file holds every key either saw, so a
/// rotation running meanwhile cannot leave the copied database with a key the copy lacks.
pub fn merged(before: Vec<MasterKey>, after: Vec<MasterKey>) -> Vec<MasterKey> {
    let mut keys: Vec<MasterKey> = before
        .into_iter()
        .filter(|k| !after.iter().any(|a| a.id == k.id))
        .collect();
    keys.extend(after);
    keys
}

/// Atomically replace the key file with these keys (last = current).
pub fn save(path: &Path, keys: &[MasterKey]) -> Result<(), KeyFileError> {
    let p = path.display().to_string();
    let werr = |source| KeyFileError::Write {
        path: p.clone(),
        source,
    };
    let mut body = String::from(
        "# Forgekeys master keys. Back this file up; without it stored tokens cannot be decrypted.\n",
    );
    for k in keys {
        body.push_str(&format!("{} {}\n", k.id, STANDARD.encode(k.bytes())));
    }
    let tmp = path.with_extension("key.tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(werr)?;
        // `mode` only applies when the file is created: a stale temp file keeps its old mode.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(werr)?;
        }
        f.write_all(body.as_bytes()).map_err(werr)?;
        f.sync_all().map_err(werr)?;
    }
    std::fs::rename(&tmp, path).map_err(werr)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_0600_and_reloads() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
        let path = dir.path().join("forgekeys.key");
        let (keys, created) = load_or_create(&path).unwrap_or_else(|_| unreachable!());
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0);
            assert_eq!(mode, 0o600);
        }
        let (again, created) = load_or_create(&path).unwrap_or_else(|_| unreachable!());
        assert!(!created);
        assert_eq!(again[0].id, keys[0].id);
        assert_eq!(again[0].bytes(), keys[0].bytes());
        std::fs::write(&path, "k1 notbase64\n").unwrap_or_default();
        assert!(matches!(
            load(&path),
            Err(KeyFileError::Malformed { line: 1, .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_open_to_others_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
        let path = dir.path().join("forgekeys.key");
        save(&path, &[MasterKey::generate()]).unwrap_or_else(|_| unreachable!());
        for mode in [0o644, 0o640, 0o604, 0o660] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .unwrap_or_else(|_| unreachable!());
            let err = load(&path).map(|_| ()).err().map(|e| e.to_string());
            let err = err.unwrap_or_default();
            assert!(
                err.contains(&format!("chmod 600 {}", path.display())),
                "{mode:o}: {err}"
            );
            assert!(load_or_create(&path).is_err(), "{mode:o}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400))
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(load(&path).map(|k| k.len()).unwrap_or(0), 1);
    }

    #[test]
    fn merged_keeps_every_key_and_the_current_last() {
        let k = |id: &str| MasterKey::new(id.into(), [7; 32]);
        let m = merged(vec![k("a"), k("b")], vec![k("b"), k("c")]);
        let ids: Vec<String> = m.into_iter().map(|k| k.id).collect();
        assert_eq!(ids, ["a", "b", "c"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_stale_temp_file_does_not_keep_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
        let path = dir.path().join("forgekeys.key");
        let tmp = path.with_extension("key.tmp");
        std::fs::write(&tmp, "left over\n").unwrap_or_else(|_| unreachable!());
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))
            .unwrap_or_else(|_| unreachable!());
        save(&path, &[MasterKey::generate()]).unwrap_or_else(|_| unreachable!());
        let mode = std::fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600);
        assert_eq!(load(&path).map(|k| k.len()).unwrap_or(0), 1);
    }
}
