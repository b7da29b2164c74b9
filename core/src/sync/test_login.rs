//! A scripted browser for the test region's development login (feature `test-login`).
//!
//! The test authorization server (oidc-provider with `devInteractions`) shows a plain
//! HTML login form and a consent form. This [`AuthBrowser`] fills them in over HTTP as a
//! person would — follow the redirects, keep the cookies, submit each form with its
//! hidden fields and the user name — until the server redirects to the app's redirect
//! URI. It exists for tests, the CLI's `--test-login` and the demo; it is never built
//! into the apps.

use url::Url;

use crate::sync::auth::{AuthBrowser, BoxFuture, BrowserError};
use crate::sync::transport::{self, TransportConfig};

/// Logs in as `user` on the test provider's development forms.
#[derive(Debug, Clone)]
pub struct TestLoginBrowser {
    user: String,
    transport: TransportConfig,
}

impl TestLoginBrowser {
    /// A browser that logs in as `user` (see `tests/region/README.md` for the users).
    pub fn new(user: impl Into<String>, transport: TransportConfig) -> Self {
        TestLoginBrowser {
            user: user.into(),
            transport,
        }
    }

    async fn run(&self, authorize_url: &Url, redirect_uri: &Url) -> Result<Url, BrowserError> {
        let failed = |what: &str| BrowserError::Failed(what.to_owned());
        transport::check_url(authorize_url, &self.transport)
            .map_err(|_| failed("insecure login URL"))?;
        let http = transport::builder(&self.transport)
            .map_err(|_| failed("client"))?
            .cookie_store(true)
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|_| failed("client"))?;
        let mut next = http.get(authorize_url.clone());
        for _ in 0..20 {
            let response = next.send().await.map_err(|_| failed("request"))?;
            let here = response.url().clone();
            if response.status().is_redirection() {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| failed("redirect without location"))?;
                let target = here.join(location).map_err(|_| failed("bad redirect"))?;
                if target.as_str().starts_with(redirect_uri.as_str()) {
                    return Ok(target);
                }
                next = http.get(target);
                continue;
            }
            if !response.status().is_success() {
                return Err(failed(&format!("HTTP {}", response.status().as_u16())));
            }
            let html = response.text().await.map_err(|_| failed("page"))?;
            let form = first_post_form(&html).ok_or_else(|| failed("no form on the page"))?;
            let action = here.join(&form.action).map_err(|_| failed("bad form"))?;
            let mut fields = form.hidden;
            if form.has_login {
                fields.push(("login".into(), self.user.clone()));
                fields.push(("password".into(), "test".into()));
            }
            next = http.post(action).form(&fields);
        }
        Err(failed("too many steps"))
    }
}

impl AuthBrowser for TestLoginBrowser {
    fn authorize<'a>(
        &'a self,
        authorize_url: &'a Url,
        redirect_uri: &'a Url,
    ) -> BoxFuture<'a, Result<Url, BrowserError>> {
        Box::pin(self.run(authorize_url, redirect_uri))
    }
}

struct Form {
    action: String,
    hidden: Vec<(String, String)>,
    has_login: bool,
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].replace("&amp;", "&"))
}

/// The first `<form method="post">` of a page: its action, hidden inputs, and whether it
/// asks for a login name.
fn first_post_form(html: &str) -> Option<Form> {
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let after = &rest[start..];
        let end = after.find("</form>").unwrap_or(after.len());
        let body = &after[..end];
        let open_end = body.find('>')?;
        let open = &body[..open_end];
        if attr(open, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")) {
            let action = attr(open, "action")?;
            let mut hidden = Vec::new();
            let mut has_login = false;
            let mut inputs = body;
            while let Some(i) = inputs.find("<input") {
                let tag_end = inputs[i..].find('>').map_or(inputs.len(), |e| i + e);
                let tag = &inputs[i..tag_end];
                let name = attr(tag, "name");
                if attr(tag, "type").as_deref() == Some("hidden") {
                    if let (Some(n), Some(v)) = (name.clone(), attr(tag, "value")) {
                        hidden.push((n, v));
                    }
                }
                if name.as_deref() == Some("login") {
                    has_login = true;
                }
                inputs = &inputs[tag_end..];
            }
            return Some(Form {
                action,
                hidden,
                has_login,
            });
        }
        rest = &after[end..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_login_form_and_its_hidden_fields() {
        let html = r#"<form autocomplete="off" action="/interaction/abc/login" method="post">
            <input type="hidden" name="prompt" value="login"/>
            <input required type="text" name="login" placeholder="Enter any login" />
            <input required type="password" name="password"/>
            <button type="submit">Sign-in</button></form>"#;
        let form = first_post_form(html).expect("a form");
        assert_eq!(form.action, "/interaction/abc/login");
        assert_eq!(form.hidden, vec![("prompt".to_owned(), "login".to_owned())]);
        assert!(form.has_login);
        assert!(first_post_form("<p>no form</p>").is_none());
    }
}
