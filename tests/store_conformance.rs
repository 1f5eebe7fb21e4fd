//! One conformance suite for both stores: every test runs against a real SQLite file
//! and a real PostgreSQL + PostGIS database, and must behave the same on both.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::TestDb;
use geo::{MultiPolygon, polygon};
use onemap::domain::{
    Batch, Category, Change, Closure, Deadline, EventKind, Hazard, HazardId, Inspection,
    InspectionId, InspectionKind, Level, Location, NewEvent, NewHazard, NewUnit, NewVisit,
    PastMoment, Region, RiskLevel, Severity, Stage, Suspension, Text, Unit, UnitId, UnitKind,
    YellowCard,
};
use onemap::store::{AnyStore, Assigned, Dataset, Event, Journal, StoreError};

fn t(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2022, 6, day, hour, 0, 0).unwrap()
}

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Option<MultiPolygon<f64>> {
    Some(MultiPolygon(vec![polygon![
        (x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)
    ]]))
}

fn region(
    id: &str,
    level: Level,
    parent: Option<&str>,
    boundary: Option<MultiPolygon<f64>>,
) -> Region {
    Region {
        id: id.parse().unwrap(),
        level,
        parent: parent.map(|p| p.parse().unwrap()),
        code: None,
        name: format!("{level} {id}"),
        boundary,
    }
}

fn unit(id: i64, kind: UnitKind, micro_grid: &str, x: f64, host: Option<i64>) -> Unit {
    Unit {
        id: UnitId::new(id).unwrap(),
        kind,
        name: format!("单位 {id} <b>&'\""),
        address: "瓜沥镇航坞路1号".into(),
        owner_name: "王伟".into(),
        owner_phone: "138****0001".into(),
        location: Location::new(x, 30.185).unwrap(),
        micro_grid: micro_grid.parse().unwrap(),
        risk: RiskLevel::Yellow,
        batch: (kind == UnitKind::Enterprise).then_some(Batch::Rectify),
        host: host.map(|h| UnitId::new(h).unwrap()),
        registered_at: t(10, 1),
    }
}

fn hazard(
    id: i64,
    unit: i64,
    inspection: i64,
    severity: Severity,
    closed: Option<DateTime<Utc>>,
) -> Hazard {
    Hazard {
        id: HazardId::new(id).unwrap(),
        unit: UnitId::new(unit).unwrap(),
        inspection: InspectionId::new(inspection).unwrap(),
        category: Category::Fire,
        hazard_type: "blocked_escape_route".into(),
        severity,
        stage: Stage::Concentrated,
        found_at: t(16, 9),
        deadline: Some(t(30, 23) + Duration::seconds(59 * 60)),
        yellow_card_at: None,
        closed_at: closed,
        evidence: closed.map(|_| "整改完成".into()),
        comprehensive: inspection == 1,
    }
}

/// `at`, as a write takes it.
fn past(at: DateTime<Utc>) -> PastMoment {
    PastMoment::new(Some(at), at).unwrap()
}

/// A deadline at `at`, set the day before.
fn due(at: DateTime<Utc>) -> Deadline {
    Deadline::new(at, at - Duration::days(1)).unwrap()
}

/// A unit to register in `micro_grid`.
fn new_unit(micro_grid: &str, x: f64) -> NewUnit {
    NewUnit {
        kind: UnitKind::Rental,
        name: Text::new("出租房 新").unwrap(),
        address: Text::new("瓜沥镇航坞路2号").unwrap(),
        owner_name: Text::default(),
        owner_phone: Text::default(),
        location: Location::new(x, 30.185).unwrap(),
        micro_grid: micro_grid.parse().unwrap(),
        risk: RiskLevel::Blue,
        batch: None,
        host: None,
        registered_at: past(t(17, 9)),
    }
}

/// A visit to `unit` on the 17th finding hazards of these severities.
fn visit(unit: UnitId, found: &[Severity]) -> Change {
    Change::Inspect(NewVisit {
        unit,
        kind: InspectionKind::Inspection,
        inspector: Text::new("李娜").unwrap(),
        at: past(t(17, 10)),
        signature: None,
        photos: vec![],
        hazards: found
            .iter()
            .map(|&severity| NewHazard {
                category: Category::Fire,
                hazard_type: Text::new("blocked_escape_route").unwrap(),
                severity,
                stage: Stage::Concentrated,
                deadline: Some(due(t(30, 18))),
            })
            .collect(),
        comprehensive: true,
        note: "需补拍消防通道照片".parse().unwrap(),
    })
}

/// Commits `change` with no journal.
async fn commit(s: &AnyStore, change: Change) -> Result<Assigned, StoreError> {
    s.commit(&change, |_| Journal::default()).await
}

fn yellow_card(hazard: HazardId) -> Change {
    Change::YellowCard(YellowCard {
        hazard,
        at: past(t(21, 10)),
        deadline: due(t(28, 18)),
    })
}

fn close(hazard: HazardId, at: DateTime<Utc>, evidence: &str) -> Change {
    Change::Close(Closure {
        hazard,
        at: past(at),
        evidence: Text::new(evidence).unwrap(),
        report: None,
        by: "inspector".into(),
    })
}

/// A small town: two micro-grids, a host enterprise and its tenant, a shop.
fn small_dataset() -> Dataset {
    let sq = |x0, x1| square(x0, 30.18, x1, 30.19);
    Dataset {
        regions: vec![
            region("T", Level::Town, None, sq(120.40, 120.42)),
            region("A1", Level::Area, Some("T"), None),
            region("G01", Level::Group, Some("A1"), None),
            region("V1", Level::Village, Some("G01"), sq(120.40, 120.42)),
            region("V1-01", Level::Grid, Some("V1"), sq(120.40, 120.42)),
            region(
                "V1-01-01",
                Level::MicroGrid,
                Some("V1-01"),
                sq(120.40, 120.41),
            ),
            region(
                "V1-01-02",
                Level::MicroGrid,
                Some("V1-01"),
                sq(120.41, 120.42),
            ),
        ],
        units: vec![
            unit(1, UnitKind::Enterprise, "V1-01-01", 120.405, None),
            unit(2, UnitKind::Enterprise, "V1-01-01", 120.4051, Some(1)),
            unit(3, UnitKind::StreetShop, "V1-01-02", 120.415, None),
        ],
        inspections: vec![Inspection {
            id: InspectionId::new(1).unwrap(),
            unit: UnitId::new(1).unwrap(),
            kind: InspectionKind::Inspection,
            inspector: "张强（第3检查组）".into(),
            at: t(16, 9),
            signature: Some("sig-1".into()),
            photos: vec!["a.jpg".into(), "b.jpg".into()],
            comprehensive: true,
            note: "后门通道需每日检查".into(),
        }],
        hazards: vec![
            hazard(1, 1, 1, Severity::General, Some(t(20, 15))),
            hazard(2, 1, 1, Severity::Major, None),
        ],
        suspensions: vec![Suspension {
            unit: UnitId::new(3).unwrap(),
            started_at: t(18, 9),
            ended_at: Some(t(25, 9)),
        }],
    }
}

async fn each_store<F, Fut>(test: F)
where
    F: Fn(AnyStore) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in TestDb::both().await {
        test(db.store.clone()).await;
        db.finish().await;
    }
}

#[tokio::test]
async fn a_new_store_is_empty_and_loads_nothing() {
    each_store(|s| async move {
        assert!(s.is_empty().await.unwrap(), "{}", s.backend());
        assert_eq!(s.load().await.unwrap(), Dataset::default());
    })
    .await;
}

#[tokio::test]
async fn import_then_load_gives_back_exactly_what_went_in() {
    each_store(|s| async move {
        let data = small_dataset();
        s.import(&data).await.unwrap();
        assert!(!s.is_empty().await.unwrap());
        assert_eq!(s.load().await.unwrap(), data, "{}", s.backend());
    })
    .await;
}

#[tokio::test]
async fn new_records_get_fresh_ids_after_an_import() {
    each_store(|s| async move {
        s.import(&small_dataset()).await.unwrap();
        let registered = commit(&s, Change::Register(new_unit("V1-01-02", 120.416)))
            .await
            .unwrap();
        let id = registered.unit.unwrap();
        assert_eq!(id.get(), 4, "{}", s.backend());
        let seen = commit(&s, visit(id, &[Severity::General, Severity::Major]))
            .await
            .unwrap();
        let iid = seen.inspection.unwrap();
        assert_eq!(iid.get(), 2);
        assert_eq!(
            seen.hazards.iter().map(|h| h.get()).collect::<Vec<_>>(),
            vec![3, 4]
        );
        let back = s.load().await.unwrap();
        assert_eq!(back.units.len(), 4);
        assert_eq!(back.units[3].name, "出租房 新");
        let h = &back.hazards[2];
        assert_eq!((h.id.get(), h.unit, h.inspection), (3, id, iid));
        assert_eq!(h.found_at, t(17, 10));
        // A comprehensive visit's tag is kept on it and on its hazards.
        assert!(h.comprehensive, "{}", s.backend());
        assert!(back.inspections[1].comprehensive);
        assert_eq!(back.inspections[0].note, "后门通道需每日检查");
        assert_eq!(back.inspections[1].note, "需补拍消防通道照片");
    })
    .await;
}

#[tokio::test]
async fn hazard_lifecycle_and_its_conflicts() {
    each_store(|s| async move {
        s.import(&small_dataset()).await.unwrap();
        let open = HazardId::new(2).unwrap();
        let closed = HazardId::new(1).unwrap();
        let missing = HazardId::new(77).unwrap();
        commit(&s, yellow_card(open)).await.unwrap();
        assert!(matches!(
            commit(&s, yellow_card(closed)).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            commit(&s, yellow_card(missing)).await,
            Err(StoreError::NotFound { .. })
        ));
        commit(&s, close(open, t(29, 11), "消防通道已清理"))
            .await
            .unwrap();
        assert!(matches!(
            commit(&s, close(open, t(29, 12), "again")).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            commit(&s, close(missing, t(29, 12), "x")).await,
            Err(StoreError::NotFound { .. })
        ));
        let h = &s.load().await.unwrap().hazards[1];
        assert_eq!(h.yellow_card_at, Some(t(21, 10)));
        assert_eq!(h.deadline, Some(t(28, 18)));
        assert_eq!(
            h.closed_at,
            Some(t(29, 11)),
            "the failed second close changed nothing"
        );
        assert_eq!(h.evidence.as_deref(), Some("消防通道已清理"));
    })
    .await;
}

#[tokio::test]
async fn suspension_orders_open_and_close_once() {
    each_store(|s| async move {
        s.import(&small_dataset()).await.unwrap();
        let u = UnitId::new(1).unwrap();
        let suspend = |unit, day| Change::Suspend {
            unit,
            at: past(t(day, 9)),
        };
        let resume = |unit, day| Change::Resume {
            unit,
            at: past(t(day, 9)),
        };
        assert!(matches!(
            commit(&s, resume(u, 20)).await,
            Err(StoreError::Conflict(_))
        ));
        commit(&s, suspend(u, 20)).await.unwrap();
        assert!(matches!(
            commit(&s, suspend(u, 21)).await,
            Err(StoreError::Conflict(_))
        ));
        commit(&s, resume(u, 26)).await.unwrap();
        let missing = UnitId::new(404).unwrap();
        assert!(matches!(
            commit(&s, suspend(missing, 20)).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            commit(&s, resume(missing, 20)).await,
            Err(StoreError::NotFound { .. })
        ));
        let back = s.load().await.unwrap();
        assert_eq!(back.suspensions.len(), 2);
        assert_eq!(
            back.suspensions[1],
            Suspension {
                unit: u,
                started_at: t(20, 9),
                ended_at: Some(t(26, 9))
            }
        );
    })
    .await;
}

#[tokio::test]
async fn a_failed_write_leaves_nothing_behind() {
    each_store(|s| async move {
        s.import(&small_dataset()).await.unwrap();
        let before = s.load().await.unwrap();
        // A unit in a micro-grid that does not exist.
        let err = commit(&s, Change::Register(new_unit("V9-99-99", 120.41))).await;
        assert!(
            matches!(err, Err(StoreError::InvalidReference(_))),
            "{}: {err:?}",
            s.backend()
        );
        // A visit whose event names a region that does not exist: the visit and its
        // hazards, written first in the transaction, must not land either.
        let change = visit(UnitId::new(3).unwrap(), &[Severity::General]);
        let err = s
            .commit(&change, |_| Journal {
                events: vec![Event {
                    seq: 1,
                    event: NewEvent {
                        at: t(17, 10),
                        kind: EventKind::HazardFound,
                        actor: "test".into(),
                        unit: None,
                        unit_name: None,
                        hazard: None,
                        region: Some("nowhere".parse().unwrap()),
                        colour_before: None,
                        colour_after: None,
                        before: serde_json::Value::Null,
                        after: serde_json::Value::Null,
                    },
                }],
                ..Journal::default()
            })
            .await;
        assert!(err.is_err(), "{}", s.backend());
        // Importing into a store that holds data conflicts on ids and writes nothing.
        assert!(s.import(&small_dataset()).await.is_err());
        assert_eq!(s.load().await.unwrap(), before, "{}", s.backend());
    })
    .await;
}

#[tokio::test]
async fn acknowledged_writes_survive_reopening() {
    for db in TestDb::both().await {
        db.store.import(&small_dataset()).await.unwrap();
        commit(&db.store, close(HazardId::new(2).unwrap(), t(29, 11), "ok"))
            .await
            .unwrap();
        let reopened = AnyStore::open(&db.url).await.unwrap();
        let back = reopened.load().await.unwrap();
        assert_eq!(
            back.hazards[1].closed_at,
            Some(t(29, 11)),
            "{}",
            reopened.backend()
        );
        // Opening runs the migrations again: a no-op on a migrated store.
        assert_eq!(back.units.len(), 3);
        db.finish().await;
    }
}

#[tokio::test]
async fn postgis_tables_are_real_geometry_layers() {
    let db = TestDb::postgis().await;
    db.store.import(&small_dataset()).await.unwrap();
    let AnyStore::Postgres(pg) = &db.store else {
        unreachable!()
    };
    let columns: Vec<(String, String, i32, String)> = sqlx::query_as(
        "SELECT f_table_name::text, f_geometry_column::text, srid, type FROM geometry_columns ORDER BY 1",
    )
    .fetch_all(pg.pool())
    .await
    .unwrap();
    assert_eq!(
        columns,
        vec![
            ("regions".into(), "geom".into(), 4326, "MULTIPOLYGON".into()),
            ("units".into(), "geom".into(), 4326, "POINT".into()),
        ]
    );
    let gist: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_indexes WHERE indexdef LIKE '%USING gist (geom)%' AND tablename IN ('regions', 'units')",
    )
    .fetch_one(pg.pool())
    .await
    .unwrap();
    assert_eq!(gist, 2);
    // PostGIS agrees with our point-in-polygon: each unit lies in its micro-grid.
    let misplaced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM units u JOIN regions r ON r.id = u.micro_grid_id WHERE NOT ST_Intersects(u.geom, r.geom)",
    )
    .fetch_one(pg.pool())
    .await
    .unwrap();
    assert_eq!(misplaced, 0);
    db.finish().await;
}

#[tokio::test]
async fn an_unknown_url_is_refused() {
    assert!(matches!(
        AnyStore::open("mysql://x").await,
        Err(StoreError::UnsupportedUrl(_))
    ));
}

#[tokio::test]
async fn a_missing_postgres_database_is_created_on_open() {
    let admin = common::pg_admin_url();
    let name = format!("onemap_test_created_{}", std::process::id());
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let store = AnyStore::open(&url).await.unwrap();
    assert!(store.is_empty().await.unwrap());
    let AnyStore::Postgres(pg) = store else {
        unreachable!()
    };
    pg.pool().close().await;
    let admin_pool = sqlx::PgPool::connect(&admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&admin_pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn unit_texts_are_read_back_by_id_in_any_number() {
    each_store(|store| async move {
        let data = small_dataset();
        store.import(&data).await.unwrap();
        // Many ids (more than one SQLite chunk), most unknown: those are left out.
        let mut ids: Vec<UnitId> = (1..=1200).map(|i| UnitId::new(i).unwrap()).collect();
        ids.reverse();
        let texts = store.unit_texts(&ids).await.unwrap();
        assert_eq!(texts.len(), data.units.len());
        for u in &data.units {
            let t = &texts[&u.id];
            assert_eq!(
                (&t.name, &t.address, &t.owner_name, &t.owner_phone),
                (&u.name, &u.address, &u.owner_name, &u.owner_phone)
            );
        }
        assert!(store.unit_texts(&[]).await.unwrap().is_empty());
    })
    .await;
}
