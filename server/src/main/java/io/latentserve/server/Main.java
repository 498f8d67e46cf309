package io.latentserve.server;

import io.latentserve.model.checkpoint.CheckpointException;
import io.latentserve.model.config.ConfigException;
import io.latentserve.server.cli.Args;
import io.latentserve.server.cli.BenchCommand;
import io.latentserve.server.cli.ChatCommand;
import io.latentserve.server.cli.GenerateCommand;

import java.io.PrintStream;

/** Command-line entry point: `latentserve serve|generate|bench`. */
public final class Main {
    private static final String USAGE = """
            usage: latentserve <command> [options]
              serve      serve a model over the OpenAI-compatible HTTP API
              generate   run one prompt through a model and print the continuation (--json for ids and logprobs)
              chat       chat in the terminal, with a running server (--url) or a model in this process
              bench      prefill/decode throughput against the machine's memory bandwidth
              test       run the whole test suite (handled by the launcher script)
            Run 'latentserve <command> --help' for the options of a command.""";

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        String command = args.length == 0 ? "help" : args[0];
        boolean help = args.length > 1 && (args[1].equals("--help") || args[1].equals("-h"));
        try {
            return switch (command) {
                case "serve" -> help ? usage(out, ServeCommand.USAGE) : ServeCommand.run(args, out, err);
                case "generate" -> help ? usage(out, GenerateCommand.USAGE) : GenerateCommand.run(args, out, err);
                case "chat" -> help ? usage(out, ChatCommand.USAGE) : ChatCommand.run(args, System.in, out, err);
                case "bench" -> help ? usage(out, BenchCommand.USAGE) : BenchCommand.run(args, out, err);
                case "help", "--help", "-h" -> usage(out, USAGE);
                default -> {
                    err.println("latentserve: unknown command '" + command + "'");
                    err.println(USAGE);
                    yield 2;
                }
            };
        } catch (Args.UsageException e) {
            err.println("latentserve " + command + ": " + e.getMessage());
            return 2;
        } catch (CheckpointException | ConfigException | IllegalArgumentException | IllegalStateException e) {
            err.println("latentserve " + command + ": " + e.getMessage());
            return 1;
        }
    }

    private static int usage(PrintStream out, String text) {
        out.println(text);
        return 0;
    }
}
