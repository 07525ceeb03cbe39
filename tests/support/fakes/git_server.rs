//! Git's smart HTTP for the fake providers: a real `git http-backend` (Debian `git`), run as a
//! CGI program over bare repositories, behind a credential check as strict as the provider's.
//!
//! Routes: `GET {prefix}/{repo}.git/info/refs?service=git-upload-pack` and
//! `POST {prefix}/{repo}.git/git-upload-pack` (so a real `git clone` works too). Credentials are
//! HTTP Basic `{user}:{token}`; the provider module decides with a [`GitAccess`] whether the user
//! name and token may read the repository. Answers as recorded for the real servers
//! (provider-research.md §8):
//!
//! | case | GitHub | GitLab | Bitbucket |
//! |---|---|---|---|
//! | no or wrong credentials | 401 `WWW-Authenticate: Basic realm="GitHub"`, "Invalid username or token. Password authentication is not supported for Git operations." | 401 `realm="GitLab"`, "HTTP Basic: Access denied. …" | 401 `realm="Bitbucket.org HTTP"` |
//! | repository not granted | 404 "Repository not found." | 404 "The project you were looking for could not be found or you don't have permission to view it." | 404 (UNCONFIRMED) |
//! | organization rule | 403 with the rule's text (SAML SSO, classic tokens forbidden) | — | — |
//!
//! Repositories are created on first use with `git init --bare` (one commit on `main`, fixed
//! dates, so the same bytes every time) under one directory per fixture version in the system
//! temp dir, shared by the tests of a run and reused by the next run.

use super::{FakeResponse, RecordedRequest};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// What the provider lets a user name + token do with a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitAccess {
    /// Readable: the request goes to `git http-backend`.
    Granted,
    /// The credentials are refused (401 with a Basic challenge).
    Unauthorized,
    /// The credentials work but do not reach this repository (404).
    NotFound,
    /// Refused by a rule, with the provider's plain-text message (403).
    Forbidden(String),
}

/// Which provider's words and realm a Git answer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitFlavour {
    Github,
    Gitlab,
    Bitbucket,
}

impl GitFlavour {
    fn realm(self) -> &'static str {
        match self {
            GitFlavour::Github => "GitHub",
            GitFlavour::Gitlab => "GitLab",
            GitFlavour::Bitbucket => "Bitbucket.org HTTP",
        }
    }

    fn denied(self) -> &'static str {
        match self {
            GitFlavour::Github => {
                "Invalid username or token. Password authentication is not supported for Git operations.\n"
            }
            GitFlavour::Gitlab => {
                "HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password. If a token was provided, it was either incorrect, expired, or improperly scoped. See https://gitlab.example.com/help/topics/git/troubleshooting_git.md#error-on-git-fetch-http-basic-access-denied\n"
            }
            GitFlavour::Bitbucket => "Authentication failed.\n",
        }
    }

    fn not_found(self) -> &'static str {
        match self {
            GitFlavour::Github => "Repository not found.\n",
            GitFlavour::Gitlab => {
                "The project you were looking for could not be found or you don't have permission to view it.\n"
            }
            GitFlavour::Bitbucket => "Repository not found\n",
        }
    }
}

/// The repository path and Git service route of a request under `prefix`, e.g.
/// `("acme/web", "info/refs")`; `None` when it is not a Git request.
pub fn route(req: &RecordedRequest, prefix: &str) -> Option<(String, String)> {
    let path = req.route().strip_prefix(prefix)?;
    let (repo, rest) = path.split_once(".git/")?;
    let repo = repo.trim_start_matches('/');
    if repo.is_empty() || repo.contains("..") || !matches!(rest, "info/refs" | "git-upload-pack") {
        return None;
    }
    Some((percent_decode(repo), rest.to_owned()))
}

/// `%XX` escapes of a path, decoded.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn text(status: u16, body: &str) -> FakeResponse {
    FakeResponse::new(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(body.as_bytes().to_vec())
}

/// Answers a Git request (or `None` when `req` is not one): checks the credentials with
/// `access(request, user, token, repository)`, then lets `git http-backend` answer.
pub fn answer(
    req: &RecordedRequest,
    prefix: &str,
    flavour: GitFlavour,
    access: impl Fn(&RecordedRequest, &str, &str, &str) -> GitAccess,
) -> Option<FakeResponse> {
    let (repo, service) = route(req, prefix)?;
    let challenge = || {
        text(401, flavour.denied()).header(
            "www-authenticate",
            &format!("Basic realm=\"{}\"", flavour.realm()),
        )
    };
    let Some((user, token)) = req.basic() else {
        return Some(challenge());
    };
    if user.is_empty() || token.is_empty() {
        return Some(challenge());
    }
    Some(match access(req, user, token, &repo) {
        GitAccess::Unauthorized => challenge(),
        GitAccess::NotFound => text(404, flavour.not_found()),
        GitAccess::Forbidden(message) => text(403, &format!("{message}\n")),
        GitAccess::Granted => match ensure_repo(&repo) {
            Ok(()) => backend(req, &repo, &service, user),
            Err(e) => text(500, &format!("fixture repository: {e}\n")),
        },
    })
}

/// The directory of the fixture repositories (bump the version when their content changes).
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| std::env::temp_dir().join("forgekeys-it-git-v1"))
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Forgekeys fixture")
        .env("GIT_AUTHOR_EMAIL", "fixture@forgekeys.test")
        .env("GIT_AUTHOR_DATE", "1700000000 +0000")
        .env("GIT_COMMITTER_NAME", "Forgekeys fixture")
        .env("GIT_COMMITTER_EMAIL", "fixture@forgekeys.test")
        .env("GIT_COMMITTER_DATE", "1700000000 +0000");
    c
}

fn run(mut cmd: Command, stdin: &[u8]) -> Result<String, String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if let Some(mut i) = child.stdin.take() {
        i.write_all(stdin).map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Creates `{root}/{repo}.git` (bare, one commit on `main`) unless it exists.
fn ensure_repo(repo: &str) -> Result<(), String> {
    static LOCK: Mutex<()> = Mutex::new(());
    let dest = root().join(format!("{repo}.git"));
    if dest.join("HEAD").is_file() {
        return Ok(());
    }
    let _guard = LOCK.lock().map_err(|_| "lock poisoned".to_owned())?;
    if dest.join("HEAD").is_file() {
        return Ok(());
    }
    let parent = dest.parent().ok_or("no parent")?;
    std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    let tmp = tempfile::tempdir_in(root()).map_err(|e| e.to_string())?;
    let bare = tmp.path().join("repo.git");
    let mut init = git(tmp.path());
    init.args(["init", "--bare", "-q", "-b", "main", "repo.git"]);
    run(init, b"")?;
    let mut blob = git(&bare);
    blob.args(["hash-object", "-w", "--stdin"]);
    let blob = run(blob, format!("# {repo}\n").as_bytes())?;
    let mut tree = git(&bare);
    tree.arg("mktree");
    let tree = run(tree, format!("100644 blob {blob}\tREADME.md\n").as_bytes())?;
    let mut commit = git(&bare);
    commit.args(["commit-tree", &tree, "-m", "Initial commit"]);
    let commit = run(commit, b"")?;
    let mut update = git(&bare);
    update.args(["update-ref", "refs/heads/main", &commit]);
    run(update, b"")?;
    match std::fs::rename(&bare, &dest) {
        Ok(()) => Ok(()),
        // Another test process made it meanwhile.
        Err(_) if dest.join("HEAD").is_file() => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `git http-backend` as CGI for the request and turns its output into an answer.
fn backend(req: &RecordedRequest, repo: &str, service: &str, user: &str) -> FakeResponse {
    let query = req.path.split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut cmd = git(root());
    cmd.arg("http-backend")
        .env("GIT_PROJECT_ROOT", root())
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", format!("/{repo}.git/{service}"))
        .env("QUERY_STRING", query)
        .env("REQUEST_METHOD", &req.method)
        .env("REMOTE_USER", user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("CONTENT_LENGTH", req.body.len().to_string());
    for (header, var) in [
        ("content-type", "CONTENT_TYPE"),
        ("content-encoding", "HTTP_CONTENT_ENCODING"),
        ("git-protocol", "GIT_PROTOCOL"),
    ] {
        if let Some(v) = req.header(header) {
            cmd.env(var, v);
        }
    }
    let out = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut child| {
            if let Some(mut i) = child.stdin.take() {
                i.write_all(&req.body)?;
            }
            child.wait_with_output()
        });
    match out {
        Ok(o) => cgi_response(&o.stdout),
        Err(e) => text(500, &format!("git http-backend: {e}\n")),
    }
}

/// A CGI answer: headers (`Status: 404 Not Found` sets the status) until an empty line.
fn cgi_response(out: &[u8]) -> FakeResponse {
    let (head, body) = match out.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (&out[..i], &out[i + 4..]),
        None => match out.windows(2).position(|w| w == b"\n\n") {
            Some(i) => (&out[..i], &out[i + 2..]),
            None => (out, &[][..]),
        },
    };
    let mut resp = FakeResponse::new(200);
    for line in String::from_utf8_lossy(head).lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("status") {
            resp.status = v
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(500);
        } else {
            resp = resp.header(&k.to_ascii_lowercase(), v);
        }
    }
    resp.body(body.to_vec())
}
