package dev.bkg.launcher.cli;

import java.util.List;
import java.util.Set;

/**
 * The client commands of {@code ./bkg}, which talk to a running mesh through its gateway:
 * {@code pull}, {@code chat}, {@code ps}, {@code models}, {@code keys}. Exit status: 0 done, 1 failed
 * or refused (the gateway's problem detail is printed), 2 usage, 3 the mesh is not running.
 */
public final class Cli {

    public static final Set<String> COMMANDS = Set.of("pull", "chat", "ps", "models", "keys");
    public static final String USAGE = "pull <owner/repo>[@rev] | chat [model] [prompt] | ps | models | keys create|list|revoke";

    private Cli() {
    }

    public static boolean handles(String command) {
        return COMMANDS.contains(command);
    }

    /** Runs {@code args[0]} with the rest; problems are printed to {@code ctx.err()} as "bkg: ...". */
    public static int run(List<String> args, CliContext ctx) {
        try {
            List<String> rest = args.subList(1, args.size());
            return switch (args.get(0)) {
                case "pull" -> PullCommand.run(rest, ctx);
                case "chat" -> ChatCommand.run(rest, ctx);
                case "ps" -> ListCommands.ps(rest, ctx);
                case "models" -> ListCommands.models(rest, ctx);
                case "keys" -> KeysCommand.run(rest, ctx);
                default -> throw CliException.usage("usage: ./bkg " + USAGE);
            };
        } catch (CliException e) {
            ctx.out().flush();
            ctx.err().println("bkg: " + e.getMessage());
            ctx.err().flush();
            return e.exitCode();
        }
    }
}
