package dev.bkg.telemetry.domain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

import org.junit.jupiter.api.Test;

import dev.bkg.proto.telemetry.v1.Aggregation;
import dev.bkg.proto.telemetry.v1.Sample;

/** Downsampling and limits of the fixed-memory series, on known input. */
class SeriesStoreTest {

    /** A round time, so that steps line up with the samples. */
    static final long T0 = 1_800_000_000_000L;

    static SeriesStore store(int maxSeries) {
        return new SeriesStore(List.of(new SeriesStore.Resolution(Duration.ofSeconds(1), Duration.ofMinutes(15)),
                new SeriesStore.Resolution(Duration.ofMinutes(1), Duration.ofHours(24))), maxSeries);
    }

    static Sample sample(String metric, double value, long at) {
        return Sample.newBuilder().setSource("p1").setKind("plugin").setMetric(metric).setValue(value)
                .setTimestampEpochMs(at).build();
    }

    @Test
    void tenSecondStepsOfOneSecondSamplesHoldMeanMinMaxAndCount() {
        SeriesStore store = store(10);
        for (int i = 0; i < 60; i++) { // values 0..59, one per second
            assertNull(store.add(sample("cpu_percent", i, T0 + i * 1000L), T0 + 60_000));
        }
        SeriesStore.Result r = store.query("p1", "cpu_percent", Map.of(), T0, T0 + 60_000, 10_000,
                Aggregation.AGGREGATION_UNSPECIFIED, T0 + 60_000);
        assertEquals(Aggregation.MEAN, r.aggregation());
        assertEquals(10_000, r.stepMs());
        assertEquals(6, r.points().size());
        SeriesStore.Point second = r.points().get(1); // values 10..19
        assertEquals(T0 + 10_000, second.startMs());
        assertEquals(14.5, second.value(), 1e-9);
        assertEquals(10, second.min());
        assertEquals(19, second.max());
        assertEquals(10, second.count());
        assertEquals(59, store.query("p1", "cpu_percent", Map.of(), T0, T0 + 60_000, 60_000, Aggregation.MAX,
                T0 + 60_000).points().get(0).value());
        assertEquals(1770, store.query("p1", "cpu_percent", Map.of(), T0, T0 + 60_000, 60_000, Aggregation.SUM,
                T0 + 60_000).points().get(0).value(), 1e-9);
    }

    @Test
    void olderRangesComeFromTheMinuteRingAndSeveralSamplesPerSecondAggregate() {
        SeriesStore store = store(10);
        long now = T0 + Duration.ofHours(2).toMillis();
        // two hours of samples every 500 ms: value = the minute it falls in
        for (long t = T0; t < now; t += 500) {
            store.add(sample("rss_bytes", (t - T0) / 60_000, t), now);
        }
        SeriesStore.Result hours = store.query("p1", "rss_bytes", Map.of(), T0, now, 0, Aggregation.MEAN, now);
        assertEquals(60_000, hours.stepMs(), "a range older than 15 min uses the 1-minute ring");
        assertEquals(120, hours.points().size());
        assertEquals(37, hours.points().get(37).value(), 1e-9);
        assertEquals(120, hours.points().get(37).count(), "two samples a second for a minute");
        SeriesStore.Result recent = store.query("p1", "rss_bytes", Map.of(), now - 30_000, now, 0, Aggregation.COUNT, now);
        assertEquals(1000, recent.stepMs());
        assertEquals(30, recent.points().size());
        assertTrue(recent.points().stream().allMatch(p -> p.value() == 2), "two samples in each second");
    }

    @Test
    void countersAreQueriedAsRatesAcrossResets() {
        SeriesStore store = store(10);
        double[] values = { 100, 110, 130, 160, 5, 25 }; // a reset after 160
        for (int i = 0; i < values.length; i++) {
            store.add(sample("requests_total", values[i], T0 + i * 10_000L), T0 + 60_000);
        }
        SeriesStore.Result r = store.query("p1", "requests_total", Map.of(), T0 + 10_000, T0 + 60_000, 10_000,
                Aggregation.AGGREGATION_UNSPECIFIED, T0 + 60_000);
        assertEquals(Aggregation.RATE, r.aggregation());
        assertEquals(List.of(1.0, 2.0, 3.0, 0.5, 2.0), r.points().stream().map(SeriesStore.Point::value).toList());
    }

    @Test
    void labelledSeriesAggregateTogetherOrByFilter() {
        SeriesStore store = store(10);
        for (String method : List.of("embed", "chat")) {
            store.add(sample("latency_ms", method.equals("embed") ? 10 : 30, T0).toBuilder().putLabels("method", method)
                    .build(), T0 + 1000);
        }
        assertEquals(20, store.query("p1", "latency_ms", Map.of(), T0, T0 + 1000, 1000, Aggregation.MEAN, T0 + 1000)
                .points().get(0).value(), 1e-9);
        assertEquals(30, store.query("p1", "latency_ms", Map.of("method", "chat"), T0, T0 + 1000, 1000, Aggregation.MEAN,
                T0 + 1000).points().get(0).value(), 1e-9);
    }

    @Test
    void theWindowIsFixedMemoryOldSlotsAreOverwritten() {
        SeriesStore store = store(10);
        long now = T0 + Duration.ofMinutes(20).toMillis();
        for (long t = T0; t < now; t += 1000) {
            store.add(sample("threads", 1, t), now);
        }
        // 20 minutes went in; the 1 s ring holds the last 15 of them
        SeriesStore.Result r = store.query("p1", "threads", Map.of(), now - Duration.ofMinutes(15).toMillis(), now, 1000,
                Aggregation.COUNT, now);
        assertEquals(900, r.points().size());
        // a sample older than the window is ignored, not written over newer data
        store.add(sample("threads", 1000, T0), now);
        assertEquals(1, store.query("p1", "threads", Map.of(), now - 60_000, now, 60_000, Aggregation.MAX, now)
                .points().get(0).value());
        assertEquals((900 + 1440) * 44L, store.bytesPerSeries());
    }

    @Test
    void limitsAreNamedAndUnknownsAreNotFound() {
        SeriesStore store = store(2);
        long now = T0;
        store.add(sample("a", 1, now), now);
        store.add(sample("b", 1, now), now);
        assertEquals("series limit reached (bkg.telemetry.store.max-series=2)", store.add(sample("c", 1, now), now));
        assertNotNull(store.add(sample("Bad-Name", 1, now), now));
        assertNotNull(store.add(sample("a", Double.NaN, now), now));
        assertNotNull(store.add(sample("a", 1, now + Duration.ofMinutes(5).toMillis()), now));
        assertEquals(4, store.rejected());
        assertThrows(NoSuchElementException.class, () -> store.query("nobody", "a", Map.of(), now - 1000, now, 0,
                Aggregation.MEAN, now));
        NoSuchElementException noMetric = assertThrows(NoSuchElementException.class, () -> store.query("p1", "zzz",
                Map.of(), now - 1000, now, 0, Aggregation.MEAN, now));
        assertTrue(noMetric.getMessage().contains("[a, b]"), noMetric.getMessage());
        // a range only the 1-minute ring still holds cannot have 1 s steps: the answer says the step it used
        assertEquals(60_000, store.query("p1", "a", Map.of(), now - Duration.ofHours(2).toMillis(), now, 1000,
                Aggregation.MEAN, now).stepMs());
        assertThrows(IllegalArgumentException.class, () -> store.query("p1", "a", Map.of(), now - 10_000, now, 10,
                Aggregation.MEAN, now));
        assertThrows(IllegalArgumentException.class, () -> store.query("p1", "a", Map.of(),
                now - Duration.ofDays(3).toMillis(), now, 0, Aggregation.MEAN, now));
        assertThrows(IllegalArgumentException.class, () -> store.query("p1", "a", Map.of(), now, now - 1000, 0,
                Aggregation.MEAN, now));
    }

    @Test
    void sourcesWhoseSeriesAgedOutAreForgottenWithThem() {
        SeriesStore store = store(2);
        for (String source : List.of("gone-1", "gone-2")) {
            assertNull(store.add(Sample.newBuilder().setSource(source).setKind("plugin").setMetric("up").setValue(1)
                    .setTimestampEpochMs(T0).build(), T0));
        }
        long later = T0 + Duration.ofHours(25).toMillis(); // past the longest window
        assertNull(store.add(Sample.newBuilder().setSource("fresh").setKind("plugin").setMetric("up").setValue(1)
                .setTimestampEpochMs(later).build(), later));
        assertEquals(List.of("fresh"), store.sources().stream().map(SeriesStore.SourceInfo::source).toList());
        assertTrue(!store.knows("gone-1") && !store.knows("gone-2"));
    }
}
