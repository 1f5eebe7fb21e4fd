//! Where the 25,553 units stand: enterprises in industrial clusters (tenants inside
//! their host's compound), shops along streets, rental rooms around village
//! settlements, high-rises in the communities. Every unit is assigned its micro-grid by
//! point-in-polygon, as a registered unit would be.

use chrono::{DateTime, Utc};
use geo::{Contains, Coord, LineString, Point, Polygon};
use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_distr::StandardNormal;

use super::figures;
use super::names;
use super::places::{Places, Village};
use crate::domain::{Batch, Location, RiskLevel, Unit, UnitId, UnitKind};

/// The placed units and what the campaign timeline needs to know about them.
pub struct PlacedUnits {
    /// Units ordered by id (hosts before tenants).
    pub units: Vec<Unit>,
    /// Index of each unit's village in `Places::villages`.
    pub village: Vec<usize>,
    /// Which units are rag-recycling workshops.
    pub rag_workshop: Vec<bool>,
}

/// When the register was drawn up, before the campaign started.
pub fn registered_at() -> DateTime<Utc> {
    crate::domain::time::cst(2022, 6, 10, 9, 0)
}

struct Placer<'a, R> {
    rng: &'a mut R,
    places: &'a Places,
    town: Polygon<f64>,
    out: PlacedUnits,
}

impl<R: Rng> Placer<'_, R> {
    /// A point near `centre` (normal scatter of `sigma` km), inside the town.
    fn near(&mut self, centre: Coord, sigma: f64) -> Coord {
        loop {
            let dx: f64 = self.rng.sample(StandardNormal);
            let dy: f64 = self.rng.sample(StandardNormal);
            let c = Coord {
                x: centre.x + sigma * dx,
                y: centre.y + sigma * dy,
            };
            if self.town.contains(&Point::from(c)) {
                return c;
            }
        }
    }

    /// The village (index into `Places::villages`) that local point `c` falls in.
    fn village_at(&self, c: Coord) -> Option<usize> {
        let tree = &self.places.tree;
        let mut up = tree.micro_grid_at(Point::from(self.places.frame.to_lonlat(c)))?;
        while tree.get(up).level != crate::domain::Level::Village {
            up = tree.parent(up)?;
        }
        let code = tree.get(up).id.as_str();
        self.places.villages.iter().position(|v| v.code == code)
    }

    /// Like [`Self::near`], but inside village `v` (settlements sit within their village).
    fn near_in(&mut self, centre: Coord, sigma: f64, v: usize) -> Coord {
        loop {
            let c = self.near(centre, sigma);
            if self.village_at(c) == Some(v) {
                return c;
            }
        }
    }

    /// Registers a unit at local point `c`, if it lands in a micro-grid.
    fn push(
        &mut self,
        c: Coord,
        kind: UnitKind,
        name: String,
        address: String,
        risk: RiskLevel,
        host: Option<UnitId>,
    ) -> bool {
        let location = Point::from(self.places.frame.to_lonlat(c));
        let Some(mg) = self.places.tree.micro_grid_at(location) else {
            return false;
        };
        let Some(village) = self.village_at(c) else {
            return false;
        };
        let Ok(id) = UnitId::new(self.out.units.len() as i64 + 1) else {
            return false;
        };
        let Ok(location) = Location::new(location.x(), location.y()) else {
            return false;
        };
        self.out.units.push(Unit {
            id,
            kind,
            name,
            address,
            owner_name: names::person(self.rng),
            owner_phone: names::phone(self.rng),
            location,
            micro_grid: self.places.tree.get(mg).id.clone(),
            risk,
            batch: None,
            host,
            registered_at: registered_at(),
        });
        self.out.village.push(village);
        self.out.rag_workshop.push(false);
        true
    }

    fn risk(&mut self, weights: [u32; 4]) -> RiskLevel {
        let total: u32 = weights.iter().sum();
        let mut r = self.rng.random_range(0..total);
        for (w, level) in weights.into_iter().zip([
            RiskLevel::Red,
            RiskLevel::Orange,
            RiskLevel::Yellow,
            RiskLevel::Blue,
        ]) {
            if r < w {
                return level;
            }
            r -= w;
        }
        RiskLevel::Blue
    }
}

/// Places every unit of the register.
pub fn place_units<R: Rng>(rng: &mut R, places: &Places) -> PlacedUnits {
    let town = Polygon::new(LineString::from(places.town.clone()), vec![]);
    let mut p = Placer {
        rng,
        places,
        town,
        out: PlacedUnits {
            units: Vec::new(),
            village: Vec::new(),
            rag_workshop: Vec::new(),
        },
    };
    let villages = &places.villages;
    let rural: Vec<&Village> = villages.iter().filter(|v| !v.community).collect();

    // Industrial clusters: nine parks in rural villages, each a few hundred metres across.
    let parks: Vec<Coord> = rural
        .choose_multiple(p.rng, 9)
        .map(|v| v.settlements[v.settlements.len() - 1])
        .collect();
    let (rag_n, rag_villages) = figures::RAG_WORKSHOPS;
    let regular = figures::ENTERPRISES - figures::FACTORY_IN_FACTORY - rag_n;
    while p.out.units.len() < regular {
        let c = if p.rng.random_bool(0.85) {
            let park = *parks.choose(p.rng).unwrap_or(&Coord::zero());
            p.near(park, 0.45)
        } else {
            let v = *rural.choose(p.rng).unwrap_or(&&villages[0]);
            let s = *v.settlements.choose(p.rng).unwrap_or(&Coord::zero());
            p.near(s, 0.3)
        };
        let name = names::enterprise(p.rng);
        let road = *names::ROADS.choose(p.rng).unwrap_or(&"工业路");
        let address = names::road_address(p.rng, road);
        let risk = p.risk([3, 12, 35, 50]);
        p.push(c, UnitKind::Enterprise, name, address, risk, None);
    }

    // Rag-recycling workshops: 107 in 8 villages, in the settlements.
    let rural_idx: Vec<usize> = (0..villages.len())
        .filter(|&i| !villages[i].community)
        .collect();
    let rag_in: Vec<usize> = rural_idx
        .choose_multiple(p.rng, rag_villages)
        .copied()
        .collect();
    let mut made = 0;
    while made < rag_n {
        let vi = rag_in[made % rag_in.len()];
        let v = &villages[vi];
        let s = *v.settlements.choose(p.rng).unwrap_or(&Coord::zero());
        let c = p.near_in(s, 0.15, vi);
        let name = format!("{}废布回收加工点{}号", v.name, made / rag_in.len() + 1);
        let address = names::village_address(p.rng, &v.name);
        if p.push(
            c,
            UnitKind::Enterprise,
            name,
            address,
            RiskLevel::Orange,
            None,
        ) {
            if let Some(last) = p.out.rag_workshop.last_mut() {
                *last = true;
            }
            made += 1;
        }
    }

    // Factory-in-factory: tenants inside a host's compound (tens of metres away).
    let hosts: Vec<(UnitId, Location, String)> = p
        .out
        .units
        .iter()
        .filter(|u| !p.out.rag_workshop[u.id.get() as usize - 1])
        .map(|u| (u.id, u.location, u.address.clone()))
        .collect();
    let landlords: Vec<&(UnitId, Location, String)> = hosts.choose_multiple(p.rng, 420).collect();
    let mut tenants = 0;
    while tenants < figures::FACTORY_IN_FACTORY {
        let &&(host, at, ref address) = landlords.choose(p.rng).unwrap_or(&&hosts[0]);
        let c = p.near(p.places.frame.to_local(at.point().into()), 0.02);
        let name = names::enterprise(p.rng);
        let risk = p.risk([4, 16, 40, 40]);
        let address = format!("{address}（厂中厂）");
        if p.push(c, UnitKind::Enterprise, name, address, risk, Some(host)) {
            tenants += 1;
        }
    }

    // Batches over all enterprises: the rag workshops and five others are to close.
    let mut enterprise_ids: Vec<usize> = (0..p.out.units.len())
        .filter(|&i| !p.out.rag_workshop[i])
        .collect();
    enterprise_ids.shuffle(p.rng);
    let [model, rectify, close] = figures::BATCHES;
    let mut it = enterprise_ids.into_iter();
    for (batch, n) in [
        (Batch::Close, close - rag_n),
        (Batch::Model, model),
        (Batch::Rectify, rectify),
    ] {
        for i in it.by_ref().take(n) {
            p.out.units[i].batch = Some(batch);
        }
    }
    for (i, u) in p.out.units.iter_mut().enumerate() {
        if p.out.rag_workshop[i] {
            u.batch = Some(Batch::Close);
        }
    }

    // Streets: each village centre joined to its two nearest neighbours.
    let mut streets: Vec<(Coord, Coord, &str)> = Vec::new();
    for (i, v) in villages.iter().enumerate() {
        let mut near: Vec<(f64, usize)> = villages
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(j, w)| {
                (
                    (w.settlements[0] - v.settlements[0])
                        .x
                        .hypot((w.settlements[0] - v.settlements[0]).y),
                    j,
                )
            })
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0));
        for &(_, j) in near.iter().take(2) {
            if j > i
                || !streets
                    .iter()
                    .any(|s| s.0 == villages[j].settlements[0] && s.1 == v.settlements[0])
            {
                let road = names::ROADS[streets.len() % names::ROADS.len()];
                streets.push((v.settlements[0], villages[j].settlements[0], road));
            }
        }
    }
    let lengths: Vec<f64> = streets
        .iter()
        .map(|(a, b, _)| (*b - *a).x.hypot((*b - *a).y))
        .collect();
    let total_len: f64 = lengths.iter().sum();
    let mut shops = 0;
    while shops < figures::STREET_SHOPS {
        let mut r = p.rng.random_range(0.0..total_len);
        let mut k = 0;
        while k + 1 < lengths.len() && r > lengths[k] {
            r -= lengths[k];
            k += 1;
        }
        let (a, b, road) = streets[k];
        let t = p.rng.random_range(0.0..1.0);
        let along = a + (b - a) * t;
        let len = lengths[k].max(1e-9);
        let normal = Coord {
            x: -(b - a).y / len,
            y: (b - a).x / len,
        };
        let side = if p.rng.random_bool(0.5) { 1.0 } else { -1.0 };
        let c = along + normal * (side * p.rng.random_range(0.008..0.025));
        if !p.town.contains(&Point::from(c)) {
            continue;
        }
        let name = names::shop(p.rng);
        let address = names::road_address(p.rng, road);
        let risk = p.risk([0, 3, 20, 77]);
        if p.push(c, UnitKind::StreetShop, name, address, risk, None) {
            shops += 1;
        }
    }

    // Rental rooms around settlements; communities are denser.
    let weights: Vec<f64> = villages
        .iter()
        .map(|v| if v.community { 1.6 } else { 1.0 })
        .collect();
    let wsum: f64 = weights.iter().sum();
    let mut rentals = 0;
    while rentals < figures::RENTALS {
        let mut r = p.rng.random_range(0.0..wsum);
        let mut vi = 0;
        while vi + 1 < weights.len() && r > weights[vi] {
            r -= weights[vi];
            vi += 1;
        }
        let v = &villages[vi];
        let s = *v.settlements.choose(p.rng).unwrap_or(&v.settlements[0]);
        let c = p.near_in(s, 0.18, vi);
        let owner = names::person(p.rng);
        let name = format!("{owner}出租房");
        let address = names::village_address(p.rng, &v.name);
        let risk = p.risk([0, 1, 9, 90]);
        if p.push(c, UnitKind::Rental, name, address, risk, None) {
            rentals += 1;
        }
    }

    // High-rises in the communities.
    let communities: Vec<usize> = (0..villages.len())
        .filter(|&i| villages[i].community)
        .collect();
    let mut towers = 0;
    while towers < figures::HIGH_RISES {
        let vi = communities[towers % communities.len()];
        let v = &villages[vi];
        let c = p.near_in(v.settlements[0], 0.3, vi);
        let name = names::high_rise(p.rng, towers);
        let address = names::village_address(p.rng, &v.name);
        let risk = p.risk([0, 30, 70, 0]);
        if p.push(c, UnitKind::HighRise, name, address, risk, None) {
            towers += 1;
        }
    }
    p.out
}
