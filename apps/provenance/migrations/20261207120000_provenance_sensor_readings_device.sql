-- A device's readings across every subject they were anchored for (GET /provenance/v1/sensors/devices/{deviceId}/telemetry,
-- the AssetTelemetry entity): per measurement type, unit and instant, the order the usage query reads them in.
CREATE INDEX sensor_readings_device ON provenance.sensor_readings (device_id, type, uom, observed_at);
