//! The development OpenID Connect provider (`scripts/dev-idp`, the npm package
//! `oidc-provider`) run as a real process for sign-in tests, and a browser stand-in
//! that walks its login form over HTTP with a cookie jar and no automatic redirects.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

pub const CLIENT_ID: &str = "sluice";
pub const CLIENT_SECRET: &str = "sluice-dev-secret";

fn dev_idp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/dev-idp")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `SLUICE_TEST_IDP_PROFILE=keycloak-es256` runs the provider as a Keycloak realm would
/// be reached (an issuer with a path) and signing with ES256 keys only; the default is
/// an issuer at the root with RS256 keys. The test command runs the sign-in tests both
/// ways.
fn keycloak_like() -> bool {
    std::env::var("SLUICE_TEST_IDP_PROFILE").as_deref() == Ok("keycloak-es256")
}

/// The issuer of a provider started on `port` under this run's profile.
pub fn issuer_for(port: u16) -> String {
    if keycloak_like() {
        format!("http://127.0.0.1:{port}/realms/sluice")
    } else {
        format!("http://127.0.0.1:{port}")
    }
}

fn key_alg() -> &'static str {
    if keycloak_like() {
        "ES256"
    } else {
        "RS256"
    }
}

pub struct DevIdp {
    child: tokio::process::Child,
    pub port: u16,
    pub issuer: String,
}

impl Drop for DevIdp {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

impl DevIdp {
    /// Starts the provider on `port`, accepting `redirect_uri`, signing with the keys
    /// in `jwks_file` (the first signs) or a fresh key. The server whose callback
    /// `redirect_uri` is may also be returned to after a sign-out at the provider, at
    /// its start page (`<public_url>/`, as Sluice asks).
    pub async fn start(port: u16, redirect_uri: &str, jwks_file: Option<&Path>) -> DevIdp {
        let dir = dev_idp_dir();
        assert!(
            dir.join("node_modules").is_dir(),
            "scripts/dev-idp/node_modules is missing: run `npm ci` there (scripts/test.sh does)"
        );
        let mut cmd = tokio::process::Command::new("node");
        cmd.arg("server.mjs")
            .current_dir(&dir)
            .env("IDP_PORT", port.to_string())
            .env("IDP_REDIRECT_URIS", redirect_uri)
            .env(
                "IDP_POST_LOGOUT_REDIRECT_URIS",
                post_logout_redirect_uri(redirect_uri),
            )
            .env("IDP_ISSUER", issuer_for(port))
            .env("IDP_KEY_ALG", key_alg())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if let Some(file) = jwks_file {
            cmd.env("IDP_JWKS_FILE", file);
        }
        let child = cmd.spawn().expect("node runs the dev identity provider");
        let issuer = issuer_for(port);
        let discovery = format!("{issuer}/.well-known/openid-configuration");
        for _ in 0..200 {
            if let Ok(r) = reqwest::get(&discovery).await {
                if r.status() == StatusCode::OK {
                    return DevIdp {
                        child,
                        port,
                        issuer,
                    };
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the dev identity provider did not answer at {discovery}");
    }

    /// Stops it and waits until it is gone.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// One private signing JWK (of the profile's algorithm) with this `kid`, as JSON.
    pub async fn generate_key(kid: &str) -> String {
        let out = tokio::process::Command::new("node")
            .args(["server.mjs", "gen-key", kid])
            .env("IDP_KEY_ALG", key_alg())
            .current_dir(dev_idp_dir())
            .output()
            .await
            .expect("node generates a key");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    }
}

/// The start page of the server whose sign-in callback is `redirect_uri`.
fn post_logout_redirect_uri(redirect_uri: &str) -> String {
    let base = redirect_uri
        .strip_suffix("/api/v1/auth/callback")
        .unwrap_or(redirect_uri);
    format!("{base}/")
}

/// The first form in an HTML page: its action (resolved against `page_url`) and the
/// fields a browser submits with its first submit button (hidden inputs, and the
/// button's own name and value when it has them).
pub fn first_form(page_url: &str, html: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |i| start + i);
    let form = &html[start..end];
    let open_tag = &form[..form.find('>')?];
    let action = attribute(open_tag, "action").unwrap_or_default();
    let action = reqwest::Url::parse(page_url).ok()?.join(&action).ok()?;
    let mut fields = Vec::new();
    let mut button_taken = false;
    let mut rest = form;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        let is_input = tag.starts_with("input");
        let is_button = tag.starts_with("button");
        if !(is_input || is_button) {
            continue;
        }
        let kind = attribute(tag, "type").unwrap_or_else(|| {
            if is_button {
                "submit".to_owned()
            } else {
                "text".to_owned()
            }
        });
        let Some(name) = attribute(tag, "name") else {
            continue;
        };
        let value = attribute(tag, "value").unwrap_or_default();
        if kind == "submit" {
            if !button_taken {
                button_taken = true;
                fields.push((name, value));
            }
        } else {
            fields.push((name, value));
        }
    }
    Some((action.to_string(), fields))
}

/// The value of attribute `name` in the inside of a tag, unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(semi) = rest.find(';') else { break };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A browser's cookie jar and redirect handling, by hand.
#[derive(Default)]
pub struct Browser {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

pub struct Step {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Browser {
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Step {
        let request = if self.cookies.is_empty() {
            request
        } else {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request.header(COOKIE, jar.join("; "))
        };
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for cookie in &set_cookies {
            if let Some((name, rest)) = cookie.split_once('=') {
                let value = rest.split(';').next().unwrap_or("").to_owned();
                if value.is_empty() {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value);
                }
            }
        }
        let body = response.text().await.unwrap_or_default();
        Step {
            status,
            location,
            set_cookies,
            body,
        }
    }

    pub async fn get(&mut self, url: &str) -> Step {
        let request = self.http.get(url);
        self.send(request).await
    }

    /// A navigation, as a browser sends it (it prefers HTML).
    pub async fn navigate(&mut self, url: &str) -> Step {
        let request = self.http.get(url).header(
            reqwest::header::ACCEPT,
            "text/html,application/xhtml+xml,*/*;q=0.8",
        );
        self.send(request).await
    }

    pub async fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> Step {
        let request = self.http.post(url).form(form);
        self.send(request).await
    }

    pub async fn post_json(&mut self, url: &str, body: serde_json::Value) -> Step {
        let request = self.http.post(url).json(&body);
        self.send(request).await
    }

    /// A JSON POST with extra headers, e.g. the `Origin` a page elsewhere would send.
    pub async fn post_json_with(
        &mut self,
        url: &str,
        headers: &[(&str, &str)],
        body: serde_json::Value,
    ) -> Step {
        let mut request = self.http.post(url).json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// The name of the first cookie whose name starts with `prefix`.
    pub fn cookies_named(&self, prefix: &str) -> Option<String> {
        self.cookies.keys().find(|k| k.starts_with(prefix)).cloned()
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Follows a sign-out at the provider (an RP-initiated logout URL), submitting its
    /// confirmation form as a browser would, and returns where the provider sends the
    /// browser afterwards.
    pub async fn sign_out_at_provider(&mut self, end_session_url: &str) -> String {
        let mut step = self.navigate(end_session_url).await;
        if step.status == StatusCode::OK {
            // Asked to confirm (or, with no session there, an auto-submitting form).
            let (action, fields) = first_form(end_session_url, &step.body)
                .unwrap_or_else(|| panic!("a sign-out form: {}", step.body));
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            step = self.post_form(&action, &fields).await;
        }
        assert_eq!(
            step.status,
            StatusCode::SEE_OTHER,
            "sign-out at the provider: {}",
            step.body
        );
        step.location.expect("back from the provider")
    }

    /// Signs in at the provider's form, starting from its authorization URL, and
    /// returns the URL it redirects back to (the callback with code and state).
    pub async fn sign_in_at_provider(&mut self, authorize_url: &str, login: &str) -> String {
        let step = self.get(authorize_url).await;
        assert_eq!(
            step.status,
            StatusCode::SEE_OTHER,
            "authorize: {}",
            step.body
        );
        let interaction = step.location.expect("to the login form");
        if !interaction.contains("/interaction/") {
            return interaction; // single sign-on: already the callback
        }
        let step = self
            .post_form(
                &format!("{interaction}/login"),
                &[("login", login), ("password", "any")],
            )
            .await;
        assert_eq!(step.status, StatusCode::SEE_OTHER, "login: {}", step.body);
        let resume = step.location.expect("to resume");
        let step = self.get(&resume).await;
        assert_eq!(step.status, StatusCode::SEE_OTHER, "resume: {}", step.body);
        step.location.expect("to the callback")
    }
}
