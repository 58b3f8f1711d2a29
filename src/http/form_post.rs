//! OAuth 2.0 Form Post Response Mode §2: the authorization response as an HTML form that the
//! browser POSTs to the client's redirect URI, submitted by a script (or, without JavaScript,
//! by the user's click), and the Content-Security-Policy that lets exactly that happen.
//!
//! This is the HTTP edge's rendering of an answer the core already made: the protocol data
//! (the action and the fields) comes from `oauth::authorize::ClientAnswer::FormPost`. Pure:
//! the caller passes the script nonce (fresh per response) and the button's words.

use url::Url;

/// `s` escaped for an HTML attribute value or text.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page: a form of hidden fields POSTed to `action` by the inline script that carries
/// `nonce`; without JavaScript, a button submits it (§2: "the User Agent ... SHOULD NOT
/// require user interaction", which the script gives whenever it can run).
pub(super) fn page(action: &str, fields: &[(String, String)], nonce: &str, button: &str, lang: &str) -> String {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(k), escape(v)))
        .collect();
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{button}</title></head>\
         <body><form method=\"post\" action=\"{action}\">{inputs}<noscript><button type=\"submit\">{button}</button></noscript></form>\
         <script nonce=\"{nonce}\">document.forms[0].submit();</script></body></html>",
        lang = escape(lang),
        button = escape(button),
        action = escape(action),
        nonce = escape(nonce),
    )
}

/// Where `action` may be posted, as a CSP source: its origin for http(s), its scheme for the
/// private-use schemes of native apps (RFC 8252 §7.1).
fn form_target(action: &str) -> String {
    let Ok(url) = Url::parse(action) else { return "'none'".to_owned() };
    match url.scheme() {
        // CSP host sources cannot name an IPv6 literal; the scheme is the closest it can say.
        "http" | "https" if matches!(url.host(), Some(url::Host::Ipv6(_))) => format!("{}:", url.scheme()),
        "http" | "https" => url.origin().ascii_serialization(),
        scheme => format!("{scheme}:"),
    }
}

/// The page's policy: nothing but the one inline script, which may only submit the form to the
/// client's origin; never framed.
pub(super) fn content_security_policy(action: &str, nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; form-action {}; frame-ancestors 'none'; base-uri 'none'",
        form_target(action)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn fields_are_escaped_and_the_script_carries_the_nonce() {
        let html = page(
            "https://rp.example/cb?a=1&b=2",
            &fields(&[("state", "\"><script>alert(1)</script>"), ("id_token", "a.b.c")]),
            "N0nce",
            "Continue",
            "en",
        );
        assert!(html.contains("<form method=\"post\" action=\"https://rp.example/cb?a=1&amp;b=2\">"), "{html}");
        assert!(html.contains("<input type=\"hidden\" name=\"id_token\" value=\"a.b.c\">"), "{html}");
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""), "{html}");
        assert_eq!(html.matches("<script").count(), 1, "only our script: {html}");
        assert!(html.contains("<script nonce=\"N0nce\">document.forms[0].submit();</script>"));
        assert!(html.contains("<noscript><button type=\"submit\">Continue</button></noscript>"));
    }

    #[test]
    fn the_policy_allows_the_script_and_the_clients_origin_only() {
        let csp = content_security_policy("https://rp.example:8443/cb?x=1", "N0nce");
        assert_eq!(
            csp,
            "default-src 'none'; script-src 'nonce-N0nce'; form-action https://rp.example:8443; frame-ancestors 'none'; base-uri 'none'"
        );
        assert!(content_security_policy("https://rp.example/cb", "n").contains("form-action https://rp.example;"));
        assert!(content_security_policy("http://127.0.0.1:5000/cb", "n").contains("form-action http://127.0.0.1:5000;"));
        assert!(content_security_policy("http://[::1]:5000/cb", "n").contains("form-action http:;"));
        assert!(content_security_policy("com.example.app:/cb", "n").contains("form-action com.example.app:;"));
        assert!(content_security_policy("not a url", "n").contains("form-action 'none';"));
    }
}
