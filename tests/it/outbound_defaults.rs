//! Issue 11 item 1: what URLs typed by users may reach by default (DESIGN.md §5).
//!
//! - Private, shared, unique-local, reserved and benchmarking addresses are refused, and the IPv6
//!   forms that embed an IPv4 address are judged by the address they embed. Every refusal names
//!   the address class and `FORGEKEYS_OUTBOUND_ALLOW`, and happens before any connection: at save
//!   for IP literals, at resolve for names (the app's fixed host table stands in for DNS, so no
//!   query leaves the machine). Nothing here sends traffic to a non-loopback address.
//! - `FORGEKEYS_OUTBOUND_ALLOW` opens a range (in every form that embeds it);
//!   `FORGEKEYS_OUTBOUND_DENY` wins over it.
//! - A failed connection is reported by category, never with the OS's words, and a body from
//!   something that is not the provider is not quoted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes::{self, FakeResponse, FakeServer};
use crate::forms::*;
use crate::helpers::*;
use forgekeys::domain::provider::{Hosting, Provider};
use forgekeys::providers::{ProviderClient, ProviderConfig, TokenTarget};
use secrecy::SecretString;
use std::net::IpAddr;

/// Words of raw transport errors that must never reach a page.
const RAW: [&str; 5] = [
    "os error",
    "tcp connect error",
    "error sending request",
    "failed to lookup",
    "error trying to connect",
];

fn hosts(list: &[(&str, &str)]) -> Vec<(String, IpAddr)> {
    list.iter()
        .map(|(name, ip)| ((*name).to_owned(), ip.parse().unwrap()))
        .collect()
}

/// Testing and saving `f` are refused as unreachable with `texts` in the result; nothing saved.
async fn refused(e: &Env, f: &Form, texts: &[&str]) {
    let frag = e.test_htmx(f).await;
    frag.assert_status(200);
    assert_eq!(
        result_status(&frag),
        "unreachable",
        "{}: {}",
        f.url,
        frag.body
    );
    for t in texts {
        assert!(
            frag.body.contains(t),
            "{}: lacks {t:?}:\n{}",
            f.url,
            frag.body
        );
    }
    for raw in RAW {
        assert!(
            !frag.body.contains(raw),
            "{}: raw {raw:?}:\n{}",
            f.url,
            frag.body
        );
    }
    let created = e.create(f).await;
    created.assert_status(422).assert_contains("Not saved");
    for t in texts {
        assert!(created.body.contains(t), "{}: save lacks {t:?}", f.url);
    }
}

#[tokio::test]
async fn private_and_embedded_addresses_are_refused_at_save_without_connecting() {
    let gl = fakes::gitlab::start();
    let gh = fakes::github::start_ghes();
    let e = env(Options::default()).await;
    let (p, q) = (gl.port, gh.port);
    let allow = "FORGEKEYS_OUTBOUND_ALLOW";
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            "https://10.1.2.3".into(),
            vec!["10.1.2.3", "a private network address (10.0.0.0/8)"],
        ),
        (
            "https://172.16.5.4".into(),
            vec!["a private network address (172.16.0.0/12)"],
        ),
        (
            "https://192.168.1.1".into(),
            vec!["a private network address (192.168.0.0/16)"],
        ),
        (
            "https://100.64.0.1".into(),
            vec!["shared address space", "(100.64.0.0/10)"],
        ),
        (
            "https://[fd00:ec2::254]".into(),
            vec!["fd00:ec2::254", "a unique local address (fc00::/7)"],
        ),
        (
            "https://[fec0::1]".into(),
            vec!["site-local", "(fec0::/10)"],
        ),
        (
            "https://[64:ff9b::7f00:1]:{port}".into(),
            vec!["NAT64", "(64:ff9b::/96)", "127.0.0.1", "a loopback address"],
        ),
        (
            "https://[64:ff9b:1::a01:203]".into(),
            vec![
                "NAT64",
                "(64:ff9b:1::/48)",
                "10.1.2.3",
                "a private network address",
            ],
        ),
        (
            "https://[2002:7f00:1::]:{port}".into(),
            vec!["6to4", "(2002::/16)", "127.0.0.1", "a loopback address"],
        ),
        (
            // Teredo: server 65.54.227.120, client 127.0.0.1 (the last 32 bits inverted).
            "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{port}".into(),
            vec!["Teredo", "(2001::/32)", "127.0.0.1", "a loopback address"],
        ),
        (
            "https://[::ffff:0:7f00:1]:{port}".into(),
            vec!["IPv4-translated", "127.0.0.1", "a loopback address"],
        ),
        (
            "https://[::ffff:10.1.2.3]".into(),
            vec!["IPv4-mapped", "10.1.2.3", "a private network address"],
        ),
        (
            "https://[::10.1.2.3]".into(),
            vec!["IPv4-compatible", "10.1.2.3", "a private network address"],
        ),
        ("https://0.1.2.3".into(), vec!["unspecified", "(0.0.0.0/8)"]),
        (
            "https://198.18.0.1".into(),
            vec!["benchmarking", "(198.18.0.0/15)"],
        ),
        (
            "https://240.0.0.1".into(),
            vec!["reserved", "(240.0.0.0/4)"],
        ),
    ];
    for (url, texts) in &cases {
        let mut texts = texts.clone();
        texts.extend(["blocked", allow]);
        let gitlab_url = url.replace("{port}", &p.to_string());
        let github_url = url.replace("{port}", &q.to_string());
        refused(
            &e,
            &Form::self_hosted("gitlab", "glpat-maintainer_private", &gitlab_url),
            &texts,
        )
        .await;
        refused(
            &e,
            &Form::self_hosted("github", "ghp_allscopes_private", &github_url),
            &texts,
        )
        .await;
    }
    gl.assert_untouched();
    gh.assert_untouched();
    e.owner.get(BASE).await.assert_contains("No tokens yet");
}

#[tokio::test]
async fn an_allowed_range_opens_every_form_of_it_and_deny_wins() {
    let gl = fakes::gitlab::start();
    let p = gl.port;
    // 127.0.0.0/8 allowed (as an internal GitLab's range would be): plain http may reach it, in
    // IPv4 form and in the IPv4-mapped form that embeds it.
    let e = env(Options {
        outbound_allow: loopback(),
        ..Default::default()
    })
    .await;
    for url in [
        format!("http://127.0.0.1:{p}"),
        format!("http://[::ffff:127.0.0.1]:{p}"),
    ] {
        let f = Form::self_hosted("gitlab", "glpat-maintainer_allowed", &url);
        let frag = e.test_htmx(&f).await;
        assert_eq!(result_status(&frag), "valid", "{url}: {}", frag.body);
    }
    assert!(gl.saw_token("glpat-maintainer_allowed"));
    // The allow list opens what it names, nothing else: a private address stays refused (http
    // passes the form because some range is allowed).
    refused(
        &e,
        &Form::self_hosted("gitlab", "glpat-maintainer_other", "http://192.168.1.1"),
        &[
            "blocked",
            "a private network address (192.168.0.0/16)",
            "FORGEKEYS_OUTBOUND_ALLOW",
        ],
    )
    .await;

    // FORGEKEYS_OUTBOUND_DENY wins over the allow list, in the embedded forms too.
    let gl2 = fakes::gitlab::start();
    let denied = env(Options {
        outbound_allow: Some("127.0.0.0/8".into()),
        outbound_deny: Some("127.0.0.1/32".into()),
        ..Default::default()
    })
    .await;
    for url in [
        format!("http://127.0.0.1:{}", gl2.port),
        format!("http://[::ffff:127.0.0.1]:{}", gl2.port),
    ] {
        refused(
            &denied,
            &Form::self_hosted("gitlab", "glpat-maintainer_denied", &url),
            &["blocked", "FORGEKEYS_OUTBOUND_DENY"],
        )
        .await;
    }
    gl2.assert_untouched();
}

#[tokio::test]
async fn names_that_resolve_to_blocked_addresses_are_refused_before_connecting() {
    let gl = fakes::gitlab::start();
    let p = gl.port;
    // Every class, as a DNS answer (the fixed host table): (name, address, words).
    let classes: [(&str, &str, &[&str]); 12] = [
        (
            "gitlab.corp.test",
            "10.1.2.3",
            &["a private network address (10.0.0.0/8)"],
        ),
        (
            "a.corp.test",
            "172.16.5.4",
            &["a private network address (172.16.0.0/12)"],
        ),
        (
            "b.corp.test",
            "192.168.1.1",
            &["a private network address (192.168.0.0/16)"],
        ),
        (
            "cgnat.corp.test",
            "100.64.0.1",
            &["shared address space", "(100.64.0.0/10)"],
        ),
        (
            "metadata.corp.test",
            "fd00:ec2::254",
            &["a unique local address (fc00::/7)"],
        ),
        (
            "link.corp.test",
            "169.254.169.254",
            &["a link-local address (169.254.0.0/16)"],
        ),
        (
            "nat64.corp.test",
            "64:ff9b::7f00:1",
            &["NAT64", "127.0.0.1", "a loopback address"],
        ),
        (
            "sixtofour.corp.test",
            "2002:a01:203::1",
            &["6to4", "10.1.2.3", "private"],
        ),
        (
            "mapped.corp.test",
            "::ffff:10.1.2.3",
            &["IPv4-mapped", "10.1.2.3", "private"],
        ),
        (
            "translated.corp.test",
            "::ffff:0:7f00:1",
            &["IPv4-translated", "127.0.0.1", "loopback"],
        ),
        (
            "ula.corp.test",
            "fc00::1",
            &["a unique local address (fc00::/7)"],
        ),
        (
            "loop.corp.test",
            "127.0.0.1",
            &["a loopback address (127.0.0.0/8)"],
        ),
    ];
    let table = hosts(&classes.map(|(name, ip, _)| (name, ip)));
    let e = env(Options {
        hosts: table.clone(),
        ..Default::default()
    })
    .await;
    for (name, ip, words) in classes {
        // The fake's port: were the refusal missing, a loopback answer would reach the fake.
        let url = format!("https://{name}:{p}");
        let shown = format!("{name} ({ip})");
        let mut texts = vec![shown.as_str(), "blocked", "FORGEKEYS_OUTBOUND_ALLOW"];
        texts.extend(words);
        refused(
            &e,
            &Form::self_hosted("gitlab", "glpat-maintainer_named", &url),
            &texts,
        )
        .await;
    }
    // The webhook URL is checked the same way when saved.
    let page = e.owner.get("/orgs/acme/settings/notifications").await;
    let csrf = page.csrf();
    e.owner
        .post(
            "/orgs/acme/settings/notifications",
            &[
                ("csrf_token", &csrf),
                ("action", "save"),
                ("webhook_url", "https://gitlab.corp.test/hooks/abc"),
            ],
        )
        .await
        .assert_status(422)
        .assert_contains("may not be used")
        .assert_contains("a private network address (10.0.0.0/8)")
        .assert_contains("FORGEKEYS_OUTBOUND_ALLOW");
    gl.assert_untouched();

    // Allowed, the same fixed answer is where the connection goes.
    let open = env(Options {
        hosts: table.clone(),
        outbound_allow: loopback(),
        ..Default::default()
    })
    .await;
    let f = Form::self_hosted(
        "gitlab",
        "glpat-maintainer_resolved",
        &format!("http://loop.corp.test:{p}"),
    );
    let frag = open.test_htmx(&f).await;
    assert_eq!(result_status(&frag), "valid", "{}", frag.body);
    assert!(gl.saw_token("glpat-maintainer_resolved"));
    // ... unless denied.
    let before = gl.connections();
    let denied = env(Options {
        hosts: table,
        outbound_allow: loopback(),
        outbound_deny: Some("127.0.0.1/32".into()),
        ..Default::default()
    })
    .await;
    refused(
        &denied,
        &Form::self_hosted(
            "gitlab",
            "glpat-maintainer_resolved_denied",
            &format!("http://loop.corp.test:{p}"),
        ),
        &["loop.corp.test (127.0.0.1)", "FORGEKEYS_OUTBOUND_DENY"],
    )
    .await;
    assert_eq!(gl.connections(), before, "a denied address was contacted");
}

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A listener whose connections complete (the kernel's backlog) but that never answers.
fn silent_listener() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

/// A listener that accepts every connection and closes it at once.
fn closing_listener() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            drop(stream);
        }
    });
    port
}

#[tokio::test]
async fn connection_failures_are_reported_by_category() {
    let silent = silent_listener();
    let silent_port = silent.local_addr().unwrap().port();
    let e = env(Options {
        outbound_allow: loopback(),
        provider_timeout_ms: Some(800),
        ..Default::default()
    })
    .await;
    let cases = [
        (
            format!("http://127.0.0.1:{}", closed_port()),
            vec!["127.0.0.1", "the connection was refused"],
        ),
        (format!("http://127.0.0.1:{silent_port}"), vec!["timed out"]),
        (
            "https://gitlab.invalid".to_owned(),
            vec!["gitlab.invalid", "not found"],
        ),
        (
            format!("http://127.0.0.1:{}", closing_listener()),
            vec!["127.0.0.1", "closed the connection"],
        ),
    ];
    for (url, texts) in &cases {
        refused(
            &e,
            &Form::self_hosted("gitlab", "glpat-maintainer_fail", url),
            texts,
        )
        .await;
    }
    drop(silent);
}

#[tokio::test]
async fn certificate_problems_are_named() {
    // Three HTTPS servers: one whose CA is not trusted, one with an expired certificate and one
    // reached by a name its certificate does not carry (both from CAs in FORGEKEYS_CA_BUNDLE).
    let untrusted = fakes::tls::start(fakes::gitlab::handler(""));
    let expired = fakes::tls::start_expired(fakes::gitlab::handler(""));
    let named = fakes::tls::start(fakes::gitlab::handler(""));
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.pem");
    let mut pem = std::fs::read(expired.ca_file()).unwrap();
    pem.extend(std::fs::read(named.ca_file()).unwrap());
    std::fs::write(&bundle, pem).unwrap();
    let e = env(Options {
        outbound_allow: loopback(),
        ca_bundle: Some(bundle),
        hosts: hosts(&[("gitlab.internal.test", "127.0.0.1")]),
        ..Default::default()
    })
    .await;
    let cases = [
        (
            untrusted.url.clone(),
            // Unknown issuer, or (the test CAs share one name) a bad signature: both say so.
            vec![
                "TLS",
                "is not signed by an authority Forgekeys trusts",
                "FORGEKEYS_CA_BUNDLE",
            ],
        ),
        (expired.url.clone(), vec!["TLS", "has expired"]),
        (
            format!("https://gitlab.internal.test:{}", named.server.port),
            vec!["TLS", "not valid for this host name"],
        ),
    ];
    for (url, texts) in &cases {
        refused(
            &e,
            &Form::self_hosted("gitlab", "glpat-maintainer_tls", url),
            texts,
        )
        .await;
    }
    for fake in [&untrusted, &expired, &named] {
        assert!(
            fake.server.requests().is_empty(),
            "a request over refused TLS"
        );
    }
}

#[tokio::test]
async fn an_answer_that_is_not_the_provider_is_not_quoted() {
    let page = FakeServer::start(|_| {
        FakeResponse::new(404)
            .header("content-type", "text/html")
            .body(
                b"<html><body><h1>intranet-marker-7f3a: page not found</h1></body></html>".to_vec(),
            )
    });
    let e = env(Options {
        outbound_allow: loopback(),
        ..Default::default()
    })
    .await;
    for (provider, api, token) in [
        ("gitlab", "GitLab", "glpat-maintainer_html"),
        ("github", "GitHub Enterprise Server", "ghp_allscopes_html"),
    ] {
        let f = Form::self_hosted(provider, token, &page.url);
        let frag = e.test_htmx(&f).await;
        assert_eq!(result_status(&frag), "error", "{}", frag.body);
        frag.assert_contains(&format!(
            "the server at 127.0.0.1 answered HTTP 404 with something that is not the {api} API"
        ))
        .assert_lacks("intranet-marker-7f3a")
        .assert_lacks("page not found");
    }
}

#[tokio::test]
async fn a_webhook_that_cannot_be_reached_says_why_in_words() {
    let app = TestApp::builder().loopback_allowed().start();
    let owner = app.owner("acme").await;
    let page = owner.get("/orgs/acme/settings/notifications").await;
    let csrf = page.csrf();
    let url = format!("http://127.0.0.1:{}/hooks/secret-path", closed_port());
    owner
        .post(
            "/orgs/acme/settings/notifications",
            &[
                ("csrf_token", &csrf),
                ("action", "save"),
                ("webhook_url", &url),
            ],
        )
        .await
        .assert_status(303);
    owner
        .post(
            "/orgs/acme/settings/notifications",
            &[("csrf_token", &csrf), ("action", "test")],
        )
        .await
        .assert_status(303);
    let page = owner.get("/orgs/acme/settings/notifications").await;
    page.assert_contains("the connection was refused")
        .assert_lacks("secret-path");
    for raw in RAW {
        page.assert_lacks(raw);
    }
}

fn provider_config(allow: &[&str]) -> ProviderConfig {
    ProviderConfig {
        outbound_allow: allow.iter().map(|a| a.parse().unwrap()).collect(),
        timeout: std::time::Duration::from_secs(2),
        ..Default::default()
    }
}

fn self_hosted_gitlab(url: &str) -> TokenTarget {
    TokenTarget {
        provider: Provider::Gitlab,
        hosting: Hosting::SelfHosted,
        url: Some(url.to_owned()),
        workspace: None,
        username: None,
    }
}

#[tokio::test]
async fn rotation_at_the_provider_follows_the_same_rules() {
    let token = SecretString::from("glpat-owner_rotate".to_owned());
    // A stored URL that is blocked now (saved while allowed, or by an older version).
    let client = ProviderClient::new(provider_config(&[])).unwrap();
    let err = client
        .gitlab_self_rotate(&self_hosted_gitlab("https://10.1.2.3"), &token, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("a private network address (10.0.0.0/8)"),
        "{err}"
    );
    assert!(err.contains("FORGEKEYS_OUTBOUND_ALLOW"), "{err}");
    // A server that is gone: the category, not the OS's words.
    let client = ProviderClient::new(provider_config(&["127.0.0.0/8"])).unwrap();
    let url = format!("http://127.0.0.1:{}", closed_port());
    let err = client
        .gitlab_self_rotate(&self_hosted_gitlab(&url), &token, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("the connection was refused"), "{err}");
    for raw in RAW {
        assert!(!err.contains(raw), "{err}");
    }
}
