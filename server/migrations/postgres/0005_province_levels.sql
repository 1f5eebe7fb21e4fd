-- A province's map: provinces and counties above towns (see domain/region.rs).
ALTER TABLE regions DROP CONSTRAINT regions_level_check;
ALTER TABLE regions ADD CONSTRAINT regions_level_check CHECK (level IN
    ('province', 'county', 'town', 'area', 'group', 'village', 'grid', 'micro_grid'));
