package dev.bkg.telemetryreporter;

import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The name this process's own figures are reported under: {@code bkg.telemetry.source} (env
 * BKG_TELEMETRY_SOURCE) when set, else the application name. One jar run as several processes (the
 * inference roles) sets it per process, so their figures do not mix in one series.
 */
@ApplicationScoped
public class SourceName {

    private final String value;

    SourceName(@ConfigProperty(name = "bkg.telemetry.source") Optional<String> source,
            @ConfigProperty(name = "quarkus.application.name") String application) {
        this.value = source.filter(s -> !s.isBlank()).orElse(application);
    }

    public String value() {
        return value;
    }
}
