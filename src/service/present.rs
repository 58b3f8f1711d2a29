//! How stored values reach the pages: a unix time as a [`Moment`], a `User-Agent` as a
//! [`BrowserName`].

use crate::view::{BrowserName, Moment};

/// `unix` as the pages show it, on a page made at `now`.
pub fn moment(unix: i64, now: i64) -> Moment {
    use time::macros::format_description;
    let at = time::OffsetDateTime::from_unix_timestamp(unix).ok();
    let iso = at.and_then(|t| t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).ok());
    let text = at.and_then(|t| t.format(format_description!("[year]-[month]-[day] [hour]:[minute] UTC")).ok());
    Moment { iso: iso.unwrap_or_default(), text: text.unwrap_or_default(), age: now.saturating_sub(unix) }
}

/// The browser a `User-Agent` names, as "Chrome 156 on Linux" is made of; `None` for one that
/// names no browser we know (a command-line client, a crawler, an empty header).
///
/// The parsing is woothee's: its table of browsers and systems is compiled in, so there is
/// no data file to ship or load.
pub fn browser_name(user_agent: &str) -> Option<BrowserName> {
    let parsed = woothee::parser::Parser::new().parse(user_agent)?;
    let known = |s: &str| s != woothee::woothee::VALUE_UNKNOWN && !s.is_empty();
    if parsed.browser_type != "browser" || !known(parsed.name) {
        return None;
    }
    let major = parsed.version.split('.').next().unwrap_or_default();
    Some(BrowserName {
        name: parsed.name.to_owned(),
        version: if known(major) { major.to_owned() } else { String::new() },
        os: if known(parsed.os) { parsed.os.to_owned() } else { String::new() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moment_is_written_in_utc_with_its_age() {
        let m = moment(1_796_110_440, 1_796_110_560);
        assert_eq!(m.iso, "2026-12-01T07:34:00Z");
        assert_eq!(m.text, "2026-12-01 07:34 UTC");
        assert_eq!(m.age, 120);
    }

    #[test]
    fn browsers_are_named_by_name_major_version_and_system() {
        let name = |ua: &str| browser_name(ua).map(|b| format!("{} {} / {}", b.name, b.version, b.os));
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(name(chrome).as_deref(), Some("Chrome 156 / Linux"));
        let headless = chrome.replace("Chrome/", "HeadlessChrome/");
        assert_eq!(name(&headless).as_deref(), Some("Chrome 156 / Linux"));
        let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0";
        assert_eq!(name(firefox).as_deref(), Some("Firefox 140 / Windows 10"));
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1";
        assert_eq!(name(iphone).as_deref(), Some("Safari 18 / iPhone"));
        for unknown in ["", "curl/8.5.0", "Googlebot/2.1 (+http://www.google.com/bot.html)"] {
            assert_eq!(name(unknown), None, "{unknown:?}");
        }
    }
}
