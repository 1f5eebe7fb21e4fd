//! Where a group's briefing goes: its channel (a village cadres' group chat's robot, an
//! office system), as the server's operator configures it — a program run with the
//! message as one JSON line on its standard input (`command:PATH`, as the owners'
//! notices), or a webhook the message is POSTed to as JSON (`https://…`).

use std::fmt;
use std::str::FromStr;

/// A channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// A program, by absolute path.
    Command(std::path::PathBuf),
    /// A webhook URL (`http://` or `https://`).
    Webhook(String),
}

/// Why a channel was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is neither `command:/absolute/path` nor an http(s):// URL")]
pub struct BadSink(pub String);

impl FromStr for Sink {
    type Err = BadSink;
    fn from_str(s: &str) -> Result<Self, BadSink> {
        let s = s.trim();
        if let Some(path) = s.strip_prefix("command:") {
            let path = std::path::PathBuf::from(path);
            return if path.is_absolute() {
                Ok(Sink::Command(path))
            } else {
                Err(BadSink(s.to_owned()))
            };
        }
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"));
        match rest {
            Some(host)
                if !host.is_empty()
                    && !host.starts_with('/')
                    && !s.contains(char::is_whitespace) =>
            {
                Ok(Sink::Webhook(s.to_owned()))
            }
            _ => Err(BadSink(s.to_owned())),
        }
    }
}

impl fmt::Display for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sink::Command(p) => write!(f, "command:{}", p.display()),
            Sink::Webhook(u) => f.write_str(u),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_is_a_program_or_a_webhook() {
        assert_eq!(
            "command:/usr/local/bin/wecom-send".parse(),
            Ok(Sink::Command("/usr/local/bin/wecom-send".into()))
        );
        let hook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc";
        assert_eq!(hook.parse(), Ok(Sink::Webhook(hook.into())));
        assert_eq!(
            hook.parse::<Sink>()
                .unwrap_or(Sink::Webhook(String::new()))
                .to_string(),
            hook
        );
        for bad in [
            "command:relative/path",
            "ftp://x",
            "https://",
            "http:///x",
            "log",
            "",
        ] {
            assert!(bad.parse::<Sink>().is_err(), "{bad}");
        }
    }
}
