//! The briefings' outbox: each group's message of a day, queued by the write that sends
//! the briefing (once per group and day), delivered to the group's channel — a program
//! given the message as one JSON line on its standard input, or a webhook POSTed
//! `{"msgtype": "text", "text": {"content": …}}` (what WeCom and DingTalk group robots
//! take). A failed delivery stays queued and is retried with a growing delay.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;

use super::AppState;
use super::outbox::{outcome, pipe_to};
use crate::domain::RegionId;
use crate::domain::channel::Sink;
use crate::store::briefing::QueuedBriefing;

/// Each group's channel, as the operator configured them (`--briefing-channels`).
pub type Channels = BTreeMap<RegionId, Sink>;

/// Reads a channels file: a line per group, `GROUP_ID,SINK` (a header line `group,sink`
/// and lines starting with `#` are skipped). Names the line of anything wrong.
pub fn read_channels(text: &str) -> Result<Channels, String> {
    let mut out = Channels::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (n == 0 && line.starts_with("group")) {
            continue;
        }
        let (group, sink) = line
            .split_once(',')
            .ok_or_else(|| format!("line {}: `GROUP_ID,SINK` expected", n + 1))?;
        let group: RegionId = group
            .trim()
            .parse()
            .map_err(|e| format!("line {}: {e}", n + 1))?;
        let sink: Sink = sink.parse().map_err(|e| format!("line {}: {e}", n + 1))?;
        if out.insert(group.clone(), sink).is_some() {
            return Err(format!("line {}: `{group}` has a channel already", n + 1));
        }
    }
    Ok(out)
}

/// Delivers one message to its channel.
async fn deliver(client: &reqwest::Client, q: &QueuedBriefing) -> Result<(), String> {
    match q.sink.parse::<Sink>().map_err(|e| e.to_string())? {
        Sink::Command(program) => {
            let line = serde_json::to_string(q).map_err(|e| e.to_string())?;
            tokio::task::spawn_blocking(move || pipe_to(&program, &line))
                .await
                .map_err(|e| e.to_string())?
        }
        Sink::Webhook(url) => {
            let body = serde_json::json!({"msgtype": "text", "text": {"content": q.message}});
            let resp = client
                .post(&url)
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            if resp.status().is_success() {
                Ok(())
            } else {
                Err(format!("{url} answered {}", resp.status()))
            }
        }
    }
}

/// Delivers due briefings until `shutdown` resolves, looking every two seconds.
pub async fn run(app: AppState, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap_or_default();
    loop {
        match app.store.due_briefings(Utc::now(), 50).await {
            Ok(due) => {
                for q in due {
                    let sent = deliver(&client, &q).await;
                    if let Err(error) = &sent {
                        tracing::warn!(id = q.id, group = %q.group, %error, "briefing not delivered; will retry");
                    }
                    let outcome = outcome(sent, q.attempts);
                    if let Err(e) = app.store.briefing_outcome(q.id, outcome).await {
                        tracing::error!(error = %e, "briefings: recording a delivery failed");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "briefings: reading due ones failed"),
        }
        tokio::select! {
            () = &mut shutdown => return,
            // The owners' outbox has the write's wake-up; this one polls (a briefing is
            // sent once a day: two seconds late is on time).
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channels_file_names_its_bad_lines() {
        let ok = read_channels(
            "group,sink\n# the robots\n330109113-group01,https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1\n330109113-group02,command:/usr/local/bin/send\n",
        );
        let ok = ok.unwrap_or_default();
        assert_eq!(ok.len(), 2);
        assert_eq!(
            read_channels("g1,ftp://x").err().as_deref(),
            Some("line 1: `ftp://x` is neither `command:/absolute/path` nor an http(s):// URL")
        );
        assert!(
            read_channels("g1")
                .err()
                .is_some_and(|e| e.starts_with("line 1"))
        );
        assert!(
            read_channels("g1,command:/a\ng1,command:/b")
                .err()
                .is_some_and(|e| e.starts_with("line 2"))
        );
    }
}
