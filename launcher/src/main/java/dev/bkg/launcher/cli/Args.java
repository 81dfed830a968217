package dev.bkg.launcher.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A command's arguments: positional ones and {@code --option value} / {@code --option=value}
 * (repeatable) or {@code --flag}; {@code --} ends the options. An unknown option is a usage error.
 */
final class Args {

    private final List<String> positional = new ArrayList<>();
    private final Map<String, List<String>> options = new LinkedHashMap<>();

    private Args() {
    }

    static Args parse(List<String> args, Set<String> withValue, Set<String> flags) {
        Args parsed = new Args();
        boolean optionsEnded = false;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (optionsEnded || !arg.startsWith("--")) {
                parsed.positional.add(arg);
                continue;
            }
            if (arg.equals("--")) {
                optionsEnded = true;
                continue;
            }
            int eq = arg.indexOf('=');
            String name = eq < 0 ? arg : arg.substring(0, eq);
            if (withValue.contains(name)) {
                String value;
                if (eq >= 0) {
                    value = arg.substring(eq + 1);
                } else if (i + 1 < args.size()) {
                    value = args.get(++i);
                } else {
                    throw CliException.usage(name + " needs a value");
                }
                parsed.options.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            } else if (flags.contains(name) && eq < 0) {
                parsed.options.computeIfAbsent(name, k -> new ArrayList<>()).add("true");
            } else {
                throw CliException.usage("unknown option " + name);
            }
        }
        return parsed;
    }

    List<String> positional() {
        return positional;
    }

    /** The option's last value, or null. */
    String value(String name) {
        List<String> values = options.get(name);
        return values == null ? null : values.get(values.size() - 1);
    }

    List<String> values(String name) {
        return options.getOrDefault(name, List.of());
    }

    boolean flag(String name) {
        return options.containsKey(name);
    }

    Integer positiveInt(String name) {
        String value = value(name);
        if (value == null) {
            return null;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the usage error below
        }
        throw CliException.usage(name + " must be a positive whole number, not '" + value + "'");
    }

    Double number(String name) {
        String value = value(name);
        if (value == null) {
            return null;
        }
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw CliException.usage(name + " must be a number, not '" + value + "'");
        }
    }
}
