//! Records as JSON: a unit's card, its hazards, visits and suspensions, in the one shape
//! that the unit endpoint returns and the event log keeps as `before`/`after`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::domain::Target;
use crate::domain::{Colour, Hazard, Inspection, Suspension, Unit};
use crate::store::{AttachmentInfo, UnitRecord};

/// Where an attachment is served.
pub fn attachment_url(hash: &str) -> String {
    format!("/api/attachments/{hash}")
}

/// A photo reference as a link: a content hash becomes its URL, anything else (an
/// external reference recorded by another system) is kept as given.
fn photo_url(reference: &str) -> String {
    let is_hash = reference.len() == 64 && reference.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hash {
        attachment_url(reference)
    } else {
        reference.to_owned()
    }
}

/// A unit's standing facts.
pub fn unit_json(u: &Unit) -> Value {
    json!({
        "id": u.id,
        "kind": u.kind,
        "name": u.name,
        "address": u.address,
        "owner_name": u.owner_name,
        "owner_phone": u.owner_phone,
        "location": [u.location.x(), u.location.y()],
        "micro_grid": u.micro_grid,
        "risk": u.risk,
        "batch": u.batch,
        "host": u.host,
        "registered_at": u.registered_at,
    })
}

/// Whole days a hazard has been open past its deadline at `now` (0 if not overdue).
pub fn overdue_days(h: &Hazard, now: DateTime<Utc>) -> i64 {
    match h.deadline {
        Some(d) if h.closed_at.is_none_or(|c| c > now) && d <= now => (now - d).num_days(),
        _ => 0,
    }
}

/// A hazard, with how overdue it is at `now`.
pub fn hazard_json(h: &Hazard, now: DateTime<Utc>) -> Value {
    let open = h.found_at <= now && h.closed_at.is_none_or(|c| c > now);
    let overdue = open && h.deadline.is_some_and(|d| d <= now);
    json!({
        "id": h.id,
        "unit": h.unit,
        "inspection": h.inspection,
        "category": h.category,
        "hazard_type": h.hazard_type,
        "severity": h.severity,
        "stage": h.stage,
        "found_at": h.found_at,
        "deadline": h.deadline,
        "yellow_card_at": h.yellow_card_at,
        "closed_at": h.closed_at,
        "evidence": h.evidence,
        "open": open,
        "overdue": overdue,
        "overdue_days": if overdue { overdue_days(h, now) } else { 0 },
    })
}

/// A visit; photos as links.
pub fn inspection_json(i: &Inspection) -> Value {
    json!({
        "id": i.id,
        "unit": i.unit,
        "kind": i.kind,
        "inspector": i.inspector,
        "at": i.at,
        "signature": i.signature.as_deref().map(photo_url),
        "photos": i.photos.iter().map(|p| photo_url(p)).collect::<Vec<_>>(),
    })
}

/// A suspension order.
pub fn suspension_json(s: &Suspension) -> Value {
    json!({"started_at": s.started_at, "ended_at": s.ended_at})
}

/// An attachment, with its link.
pub fn attachment_json(a: &AttachmentInfo) -> Value {
    json!({
        "hash": a.hash,
        "url": attachment_url(&a.hash),
        "kind": a.kind,
        "content_type": a.content_type,
        "size": a.size,
        "at": a.at,
    })
}

/// A weekly target.
pub fn target_json(t: &Target) -> Value {
    json!({
        "group": t.group,
        "week": t.week,
        "closures": t.closures,
        "set_by": t.set_by,
        "set_at": t.set_at,
    })
}

/// A unit's card: its facts, its colour at `at`, every hazard, visit, order and file
/// recorded up to `at` (facts recorded later are left out, so a past day reads as it
/// was).
pub fn card(r: &UnitRecord, colour: Option<Colour>, at: DateTime<Utc>) -> Value {
    let mut v = unit_json(&r.unit);
    let hazards: Vec<Value> = r
        .hazards
        .iter()
        .filter(|h| h.found_at <= at)
        .map(|h| {
            let mut h = h.clone();
            h.closed_at = h.closed_at.filter(|&c| c <= at);
            h.yellow_card_at = h.yellow_card_at.filter(|&y| y <= at);
            hazard_json(&h, at)
        })
        .collect();
    let inspections: Vec<Value> = r
        .inspections
        .iter()
        .filter(|i| i.at <= at)
        .map(inspection_json)
        .collect();
    let suspended = r.suspensions.iter().any(|s| s.in_force(at));
    let extra = json!({
        "at": at,
        "colour": colour,
        "suspended": suspended,
        "hazards": hazards,
        "inspections": inspections,
        "suspensions": r.suspensions.iter().filter(|s| s.started_at <= at).map(suspension_json).collect::<Vec<_>>(),
        "attachments": r.attachments.iter().filter(|a| a.at <= at).map(attachment_json).collect::<Vec<_>>(),
        "links": {
            "self": format!("/api/units/{}", r.unit.id),
            "history": format!("/api/units/{}/history", r.unit.id),
        },
    });
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    v
}
