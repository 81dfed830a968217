package dev.bkg.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A /q/metrics page checked by Prometheus's own parser and linter ({@code promtool check metrics},
 * from Debian's prometheus package, which .ci/run installs): a page it cannot parse fails the
 * test; lint findings are returned for the caller to judge. Once promtool accepted the page, its
 * samples are read into name → labels → value for assertions.
 */
public record PrometheusExposition(Map<String, List<Sample>> samples, List<String> lintProblems, java.util.Set<String> helped) {

    public static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)( \\d+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    public record Sample(String name, Map<String, String> labels, double value) {
    }

    public static PrometheusExposition parse(String page) {
        if (!Files.isExecutable(PROMTOOL)) {
            throw new IllegalStateException(PROMTOOL + " is missing: apt-get install prometheus (.ci/run does)");
        }
        String verdict;
        int exit;
        try {
            Process promtool = new ProcessBuilder(PROMTOOL.toString(), "check", "metrics").redirectErrorStream(true).start();
            promtool.getOutputStream().write(page.getBytes(StandardCharsets.UTF_8));
            promtool.getOutputStream().close();
            verdict = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!promtool.waitFor(30, TimeUnit.SECONDS)) {
                promtool.destroyForcibly();
                throw new IllegalStateException("promtool did not finish");
            }
            exit = promtool.exitValue();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        // 0: clean; 3: parsed, with lint findings; anything else (1): the page does not parse
        if (exit != 0 && exit != 3) {
            throw new AssertionError("promtool cannot parse the metrics page (exit " + exit + "): " + verdict);
        }
        List<String> lint = verdict.lines().filter(l -> !l.isBlank()).toList();
        Map<String, List<Sample>> samples = new LinkedHashMap<>();
        java.util.Set<String> helped = new java.util.HashSet<>();
        for (String line : page.split("\n")) {
            if (line.startsWith("# HELP ")) {
                String[] help = line.split(" ", 4);
                if (help.length == 4 && !help[3].isBlank()) {
                    helped.add(help[2]);
                }
            }
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                throw new AssertionError("promtool accepted a line this reader cannot read: " + line);
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            samples.computeIfAbsent(m.group(1), k -> new ArrayList<>())
                    .add(new Sample(m.group(1), labels, Double.parseDouble(m.group(4).replace("+Inf", "Infinity")
                            .replace("-Inf", "-Infinity"))));
        }
        return new PrometheusExposition(samples, lint, helped);
    }

    /**
     * Lint findings about the mesh's own metrics (bkg_*): there must be none. One finding is this
     * promtool's (2.42) own age: current Prometheus clients write a counter's HELP and TYPE under
     * the family name without "_total" (as OpenMetrics does), which it reports as "no help text"
     * for the _total sample; such a finding is dropped when the family's HELP is there.
     */
    public List<String> ownLintProblems() {
        return lintProblems.stream().filter(l -> l.startsWith("bkg_"))
                .filter(l -> !(l.endsWith("_total no help text")
                        && helped.contains(l.substring(0, l.indexOf("_total no help text")))))
                .toList();
    }
}
