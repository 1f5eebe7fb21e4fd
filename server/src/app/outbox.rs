//! The notice outbox: a hazard found or a yellow card queues a message to the unit's
//! owner in the same transaction as the write (the reports send an SMS), worded here
//! ([`notice`]: the problems by name and the deadline); this task delivers them through
//! a pluggable [`NoticeSender`]. A failed delivery stays queued and is retried with a
//! growing delay, so nothing is lost when the SMS gateway is down.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::AppState;
use crate::domain::checklist::name_zh;
use crate::domain::time::Zone;
use crate::store::{NewNotice, Notice, NoticeOutcome};
use crate::writes::{NoticeDraft, Notify};

/// A moment as a notice says it: the day and the minute on the town's clocks.
fn when(zone: Zone, t: DateTime<Utc>) -> String {
    zone.local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// The message to the owner, signed by the town (or province) the map is of:
/// `【瓜沥镇安全生产】某某店：本次检查发现隐患2处（其中重大隐患1处）：疏散通道堵塞、电气线路私拉乱接，请于2022-07-28 18:00前完成整改。`
pub fn notice(town: &str, zone: Zone, n: &NoticeDraft) -> NewNotice {
    let body = match &n.about {
        Notify::HazardsFound {
            hazard_types,
            major,
            deadline,
        } => {
            let mut body = format!("本次检查发现隐患{}处", hazard_types.len());
            if *major > 0 {
                body.push_str(&format!("（其中重大隐患{major}处）"));
            }
            let names: Vec<&str> = hazard_types.iter().map(|t| name_zh(t)).collect();
            body.push('：');
            body.push_str(&names.join("、"));
            match deadline {
                Some(t) => body.push_str(&format!("，请于{}前完成整改。", when(zone, *t))),
                None => body.push_str("，请立即整改。"),
            }
            body
        }
        Notify::YellowCard {
            hazard_type,
            deadline,
        } => format!(
            "隐患“{}”逾期未整改，现发出黄牌警告，请于{}前整改到位。",
            name_zh(hazard_type),
            when(zone, *deadline)
        ),
        Notify::FixLink { url, expires_at } => format!(
            "整改完成后，请用手机打开 {url} 上传整改照片和说明（{}前有效）。",
            when(zone, *expires_at)
        ),
        Notify::FixRejected { reason } => {
            format!("您提交的整改反馈未通过：{reason}。请整改到位后通过原链接重新提交。")
        }
    };
    NewNotice {
        unit: n.unit,
        recipient: n.recipient.clone(),
        phone: n.phone.clone(),
        message: format!("【{town}安全生产】{}：{body}", n.unit_name),
    }
}

/// Delivers one notice; an error leaves it queued for a retry.
pub trait NoticeSender: Send + Sync + std::fmt::Debug {
    /// Sends it.
    fn send(&self, notice: &Notice) -> Result<(), String>;
}

/// The default sender: writes each notice to the log.
#[derive(Debug, Default)]
pub struct LogSender;

impl NoticeSender for LogSender {
    fn send(&self, n: &Notice) -> Result<(), String> {
        tracing::info!(
            target: "onemap::notice",
            id = n.id,
            unit = %n.notice.unit,
            to = %n.notice.recipient,
            phone = %n.notice.phone,
            message = %n.notice.message,
            "notice sent"
        );
        Ok(())
    }
}

/// Hands each notice to a program (an SMS gateway's client, say) as one JSON line on its
/// standard input; a non-zero exit is a failed delivery.
#[derive(Debug)]
pub struct CommandSender {
    /// The program.
    pub program: std::path::PathBuf,
}

impl NoticeSender for CommandSender {
    fn send(&self, n: &Notice) -> Result<(), String> {
        let line = serde_json::to_string(n).map_err(|e| e.to_string())?;
        pipe_to(&self.program, &line)
    }
}

/// Runs `program` with `line` on its standard input: a non-zero exit is an error.
pub fn pipe_to(program: &std::path::Path, line: &str) -> Result<(), String> {
    use std::io::Write;
    let mut child = std::process::Command::new(program)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "{line}").map_err(|e| e.to_string())?;
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} exited with {status}", program.display()))
    }
}

/// What a delivery attempt (the `attempts + 1`th) comes to: delivered now, or failed and
/// due again after the [`backoff`].
pub fn outcome(sent: Result<(), String>, attempts: i32) -> NoticeOutcome {
    let now = Utc::now();
    match sent {
        Ok(()) => NoticeOutcome::Delivered(now),
        Err(error) => NoticeOutcome::Failed {
            error,
            retry_at: now + chrono::Duration::from_std(backoff(attempts + 1)).unwrap_or_default(),
        },
    }
}

/// The delay before attempt `n + 1`: 2 s, 4 s, 8 s … capped at 10 minutes.
pub fn backoff(attempts: i32) -> Duration {
    let secs = 2u64.saturating_pow(attempts.clamp(1, 20) as u32);
    Duration::from_secs(secs.min(600))
}

/// Delivers due notices until `shutdown` resolves; polls every few seconds for retries
/// and wakes at once when a write queues one.
pub async fn run(
    app: AppState,
    sender: Arc<dyn NoticeSender>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        match app.store.due_notices(Utc::now(), 100).await {
            Ok(due) => {
                for n in due {
                    let s = sender.clone();
                    let n2 = n.clone();
                    let sent = tokio::task::spawn_blocking(move || s.send(&n2))
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()));
                    if let Err(error) = &sent {
                        tracing::warn!(id = n.id, %error, "notice not delivered; will retry");
                    }
                    let outcome = outcome(sent, n.attempts);
                    if let Err(e) = app.store.notice_outcome(n.id, outcome).await {
                        tracing::error!(error = %e, "outbox: recording a delivery failed");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "outbox: reading due notices failed"),
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
            () = app.feed.outbox.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;
    use crate::domain::UnitId;
    use crate::store::NewNotice;

    #[test]
    fn notices_name_the_problems_and_the_deadline() {
        let draft = |about| NoticeDraft {
            unit: UnitId::new(5).unwrap(),
            unit_name: "瓜沥某五金店".into(),
            recipient: "傅海燕".into(),
            phone: "159****6816".into(),
            about,
        };
        let deadline = crate::domain::time::cst(2022, 7, 28, 18, 0);
        let found = notice(
            "瓜沥镇",
            Zone::CHINA,
            &draft(Notify::HazardsFound {
                hazard_types: vec!["blocked_escape_route".into(), "门口堆放杂物".into()],
                major: 1,
                deadline: Some(deadline),
            }),
        );
        assert_eq!(
            found.message,
            "【瓜沥镇安全生产】瓜沥某五金店：本次检查发现隐患2处（其中重大隐患1处）：疏散通道堵塞、门口堆放杂物，请于2022-07-28 18:00前完成整改。"
        );
        let card = notice(
            "瓜沥镇",
            Zone::CHINA,
            &draft(Notify::YellowCard {
                hazard_type: "messy_wiring".into(),
                deadline,
            }),
        );
        assert!(
            card.message.contains("隐患“电气线路私拉乱接”逾期未整改"),
            "{}",
            card.message
        );
        assert!(card.message.ends_with("请于2022-07-28 18:00前整改到位。"));
        // A town in another zone reads the same deadline on its own clocks.
        let utc = notice(
            "Town",
            "UTC".parse().unwrap(),
            &draft(Notify::YellowCard {
                hazard_type: "messy_wiring".into(),
                deadline,
            }),
        );
        assert!(
            utc.message.ends_with("请于2022-07-28 10:00前整改到位。"),
            "{}",
            utc.message
        );
    }

    fn queued() -> Notice {
        Notice {
            id: 7,
            event_seq: 3,
            attempts: 0,
            notice: NewNotice {
                unit: UnitId::new(5).unwrap(),
                recipient: "傅海燕".into(),
                phone: "159****6816".into(),
                message: "本次检查发现隐患1处".into(),
            },
        }
    }

    #[test]
    fn a_command_gets_each_notice_as_a_json_line_and_its_failure_is_reported() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("onemap_outbox_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("sent.jsonl");
        let script = dir.join("sms");
        std::fs::write(&script, format!("#!/bin/sh\ncat >> {}\n", out.display())).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let sender = CommandSender { program: script };
        sender.send(&queued()).unwrap();
        let line = std::fs::read_to_string(&out).unwrap();
        let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
        assert_eq!(v["phone"], "159****6816");
        assert_eq!(v["message"], "本次检查发现隐患1处");
        assert_eq!(v["unit"], 5);
        let failing = CommandSender {
            program: "/bin/false".into(),
        };
        assert!(failing.send(&queued()).is_err());
        let missing = CommandSender {
            program: dir.join("nowhere"),
        };
        assert!(missing.send(&queued()).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn retries_back_off_and_are_capped() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(40), Duration::from_secs(600));
    }
}
