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
}

pub fn load(path: &Path) -> Result<Vec<MasterKey>, KeyFileError> {
    let p = path.display().to_string();
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
