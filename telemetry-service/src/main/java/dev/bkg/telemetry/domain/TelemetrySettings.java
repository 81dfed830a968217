package dev.bkg.telemetry.domain;

import java.time.Duration;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** bkg.telemetry.store.*: the series' resolutions and windows, the series cap, when a source counts as down. */
@ConfigMapping(prefix = "bkg.telemetry.store")
public interface TelemetrySettings {

    @WithDefault("1s")
    Duration fineStep();

    @WithDefault("15m")
    Duration fineWindow();

    @WithDefault("1m")
    Duration coarseStep();

    @WithDefault("24h")
    Duration coarseWindow();

    /** Series kept at most (each holds {@link SeriesStore#bytesPerSeries()} bytes). */
    @WithDefault("500")
    int maxSeries();

    /** A source that reported nothing for this long is down. */
    @WithDefault("5s")
    Duration downAfter();
}
