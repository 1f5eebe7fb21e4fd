//! Tile-building costs on the hot path: encoding point layers, clustering, and clipping plus
//! encoding polygons. Inputs are generated deterministically around one zoom-12 tile.

use std::f64::consts::PI;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use onemap_tiles::{CATEGORIES, Clusterer, LayerEncoder, LonLat, Prop, TileCoord, TileEncoder};

/// Guali, zoom 12.
const TILE: (u8, u32, u32) = (12, 3418, 1687);

fn tile() -> TileCoord {
    match TileCoord::new(TILE.0, TILE.1, TILE.2) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

/// A small deterministic generator (SplitMix64), so runs compare.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` points spread over the tile and a margin of a tenth of it on each side.
fn points(n: usize) -> Vec<LonLat> {
    let [w, s, e, nn] = tile().bounds();
    let (dx, dy) = (e - w, nn - s);
    let mut rng = Rng(7);
    (0..n)
        .map(|_| LonLat {
            lon: w - dx / 10.0 + rng.next_f64() * dx * 1.2,
            lat: s - dy / 10.0 + rng.next_f64() * dy * 1.2,
        })
        .collect()
}

fn encode_points(pts: &[LonLat]) -> Vec<u8> {
    const STATUS: [&str; 3] = ["green", "yellow", "red"];
    let t = tile();
    let mut layer = LayerEncoder::new("units", t);
    for (i, &p) in pts.iter().enumerate() {
        let props = [
            ("name", Prop::Str(STATUS[i % 3])),
            ("status", Prop::Str(STATUS[(i / 3) % 3])),
            ("members", Prop::UInt((i % 40) as u64)),
            ("load", Prop::Float((i % 100) as f64 / 100.0)),
            ("active", Prop::Bool(i % 5 != 0)),
        ];
        layer.add_point(p, Some(i as u64), &props);
    }
    let mut enc = TileEncoder::new(t);
    enc.add_layer(layer);
    enc.encode().unwrap_or_default()
}

/// 50 star-shaped polygons of 100 vertices, some across the tile's edges.
fn polygons() -> Vec<MultiPolygon<f64>> {
    let [w, s, e, n] = tile().bounds();
    let (dx, dy) = (e - w, n - s);
    let mut rng = Rng(11);
    (0..50)
        .map(|_| {
            let (cx, cy) = (
                w - dx * 0.1 + rng.next_f64() * dx * 1.2,
                s - dy * 0.1 + rng.next_f64() * dy * 1.2,
            );
            let r = 0.05 + rng.next_f64() * 0.1;
            let ring: LineString<f64> = (0..100)
                .map(|i| {
                    let a = f64::from(i) / 100.0 * 2.0 * PI;
                    let k = r * if i % 2 == 0 { 1.0 } else { 0.8 };
                    Coord {
                        x: cx + k * dx * a.cos(),
                        y: cy + k * dy * a.sin(),
                    }
                })
                .collect();
            MultiPolygon::new(vec![Polygon::new(ring, vec![])])
        })
        .collect()
}

fn encode_polygons(polys: &[MultiPolygon<f64>]) -> Vec<u8> {
    let t = tile();
    let mut layer = LayerEncoder::new("areas", t);
    for (i, mp) in polys.iter().enumerate() {
        layer.add_polygon(mp, Some(i as u64), &[("name", Prop::Str("village"))]);
    }
    let mut enc = TileEncoder::new(t);
    enc.add_layer(layer);
    enc.encode().unwrap_or_default()
}

fn cluster(pts: &[LonLat]) -> usize {
    let mut c = Clusterer::new(tile(), 16);
    for (i, &p) in pts.iter().enumerate() {
        c.add(p, i % CATEGORIES);
    }
    c.finish().len()
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode_points");
    for n in [1_000, 4_000] {
        let pts = points(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &pts, |b, pts| {
            b.iter(|| encode_points(black_box(pts)))
        });
    }
    group.finish();

    let pts = points(25_000);
    let mut group = c.benchmark_group("cluster_16x16");
    group.throughput(Throughput::Elements(pts.len() as u64));
    group.bench_function("25000", |b| b.iter(|| cluster(black_box(&pts))));
    group.finish();

    let polys = polygons();
    let mut group = c.benchmark_group("clip_encode_polygons");
    group.throughput(Throughput::Elements(polys.len() as u64));
    group.bench_function("50x100", |b| b.iter(|| encode_polygons(black_box(&polys))));
    group.finish();
}

criterion_group!(encode, benches);
criterion_main!(encode);
