//! Owners' fix reports (整改反馈): a link made for one unit (its notice carries it to
//! the owner), a link revoked, a report sent through a link, a report rejected with the
//! reason the owner is told. A report accepted is a closure citing it (`close`).

use serde_json::{Value, json};

use super::{Ctx, Draft, NoticeDraft, Notify, WriteError, on_unit, records};
use crate::domain::{
    Change, EventKind, FixLink, FixLinkId, FixRejection, FixReport, NewFixLink, NewFixReport,
    UnitId,
};
use crate::store::UnitText;

/// A link as the log records it (never its secret).
pub fn link_json(l: &FixLink) -> Value {
    json!({
        "id": l.id,
        "unit": l.unit,
        "made_by": l.made_by,
        "made_at": l.made_at,
        "expires_at": l.expires_at,
        "revoked_at": l.revoked_at,
    })
}

/// A report as the log and the card show it.
pub fn report_json(r: &FixReport) -> Value {
    json!({
        "id": r.id,
        "unit": r.unit,
        "link": r.link,
        "at": r.at,
        "note": r.note,
        "photos": r.photos.iter().map(|h| json!({"hash": h, "url": records::attachment_url(h)})).collect::<Vec<_>>(),
        "status": r.status,
        "handled_by": r.handled_by,
        "handled_at": r.handled_at,
        "reason": r.reason,
    })
}

/// The unit's texts, or 404.
async fn texts(unit: UnitId, cx: &Ctx<'_>) -> Result<UnitText, WriteError> {
    cx.store
        .unit_texts(&[unit])
        .await?
        .remove(&unit)
        .ok_or_else(|| WriteError::not_found("unit", unit))
}

/// A draft of `kind` on `unit`: its micro-grid, its colour (unchanged) and its name.
async fn on_fix(
    kind: EventKind,
    change: &Change,
    unit: UnitId,
    cx: &Ctx<'_>,
) -> Result<(Draft, UnitText), WriteError> {
    let mut d = Draft::new(kind, cx);
    on_unit(&mut d, change, &*cx.map()?)?;
    let t = texts(unit, cx).await?;
    d.unit = Some(unit);
    d.unit_name = Some(t.name.clone());
    Ok((d, t))
}

/// A notice to the unit's owner, if the register has a phone for them.
fn notice(t: UnitText, unit: UnitId, about: Notify) -> Option<NoticeDraft> {
    if t.owner_phone.is_empty() {
        return None;
    }
    Some(NoticeDraft {
        unit,
        unit_name: t.name,
        recipient: t.owner_name,
        phone: t.owner_phone,
        about,
    })
}

pub(super) async fn link(
    change: &Change,
    l: &NewFixLink,
    cx: &Ctx<'_>,
) -> Result<Draft, WriteError> {
    let (mut d, t) = on_fix(EventKind::FixLinkMade, change, l.unit, cx).await?;
    let (unit, by, at, expires_at) = (l.unit, l.by.clone(), l.at, l.expires_at());
    d.after = Box::new(move |a| {
        json!({
            "id": a.fix_link,
            "unit": unit,
            "made_by": by,
            "made_at": at,
            "expires_at": expires_at,
            "revoked_at": null,
        })
    });
    d.notices.extend(notice(
        t,
        l.unit,
        Notify::FixLink {
            url: l.url(),
            expires_at,
        },
    ));
    Ok(d)
}

pub(super) async fn revoke(
    change: &Change,
    link: FixLinkId,
    unit: UnitId,
    cx: &Ctx<'_>,
) -> Result<Draft, WriteError> {
    let l = cx
        .store
        .fix_link(link.get())
        .await?
        .filter(|l| l.unit == unit)
        .ok_or_else(|| WriteError::not_found("fix link", link))?;
    let (mut d, _) = on_fix(EventKind::FixLinkRevoked, change, unit, cx).await?;
    d.before = link_json(&l);
    let mut after = d.before.clone();
    after["revoked_at"] = json!(cx.now);
    d.after = Box::new(move |_| after.clone());
    Ok(d)
}

pub(super) async fn report(
    change: &Change,
    r: &NewFixReport,
    cx: &Ctx<'_>,
) -> Result<Draft, WriteError> {
    let (mut d, _) = on_fix(EventKind::FixReported, change, r.unit, cx).await?;
    let (unit, link, at, note) = (r.unit, r.link, r.at, r.note.as_str().to_owned());
    let photos: Vec<Value> = r
        .photos
        .iter()
        .map(|p| json!({"hash": p.hash, "url": records::attachment_url(p.hash.as_str())}))
        .collect();
    d.after = Box::new(move |a| {
        json!({
            "id": a.fix_report,
            "unit": unit,
            "link": link,
            "at": at,
            "note": note,
            "photos": photos,
            "status": "waiting",
        })
    });
    Ok(d)
}

pub(super) async fn reject(
    change: &Change,
    r: &FixRejection,
    cx: &Ctx<'_>,
) -> Result<Draft, WriteError> {
    let before = cx
        .store
        .fix_report(r.report.get())
        .await?
        .filter(|f| f.unit == r.unit)
        .ok_or_else(|| WriteError::not_found("fix report", r.report))?;
    let (mut d, t) = on_fix(EventKind::FixRejected, change, r.unit, cx).await?;
    d.before = report_json(&before);
    let mut after = d.before.clone();
    after["status"] = json!("rejected");
    after["handled_by"] = json!(r.by);
    after["handled_at"] = json!(r.at);
    after["reason"] = json!(r.reason);
    d.after = Box::new(move |_| after.clone());
    d.notices.extend(notice(
        t,
        r.unit,
        Notify::FixRejected {
            reason: r.reason.as_str().to_owned(),
        },
    ));
    Ok(d)
}
