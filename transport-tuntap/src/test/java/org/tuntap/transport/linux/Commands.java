package org.tuntap.transport.linux;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs a program (ip, setpriv, a JVM) and returns what it printed. */
final class Commands {
    private Commands() {
    }

    /** A finished program: its exit code and its stdout and stderr together. */
    static final class Result {
        final int exitCode;
        final String output;

        Result(int exitCode, String output) {
            this.exitCode = exitCode;
            this.output = output;
        }
    }

    static Result run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        byte[] output;
        try (java.io.InputStream stdout = process.getInputStream()) {
            output = stdout.readAllBytes();
        }
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "timed out: " + command);
        return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }

    /** Whether this namespace has an interface named {@code name}. */
    static boolean linkExists(String name) throws IOException, InterruptedException {
        return run(Arrays.asList("ip", "link", "show", "dev", name)).exitCode == 0;
    }

    /** Runs {@code ip ARGS}, asserting it succeeds; returns its output. */
    static String ip(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("ip");
        command.addAll(Arrays.asList(args));
        Result result = run(command);
        assertEquals(0, result.exitCode, "ip " + String.join(" ", args) + ": " + result.output);
        return result.output;
    }
}
