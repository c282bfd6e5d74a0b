package org.tuntap.testkit.nativeio;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * iproute2's {@code ip} and the namespace's sysctls, for what {@code LinuxInterfaces} does not
 * cover (neighbour tables, MAC addresses, IPv6 switches). Only for use inside the test namespace.
 */
public final class Ip {
    private static final Pattern LINK_ETHER = Pattern.compile("link/ether ([0-9a-f:]{17})");

    private Ip() {
    }

    /** Runs {@code ip ARGS}, asserting it succeeds; returns what it printed. */
    public static String ip(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("ip");
        command.addAll(Arrays.asList(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output;
        try (InputStream stdout = process.getInputStream()) {
            output = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "timed out: " + command);
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + output);
        return output;
    }

    /** The MAC address of a TAP device, as {@code ip link} prints it (lower case, colons). */
    public static String macAddress(String device) throws IOException, InterruptedException {
        String link = ip("-o", "link", "show", "dev", device);
        Matcher matcher = LINK_ETHER.matcher(link);
        assertTrue(matcher.find(), "no link/ether in: " + link);
        return matcher.group(1);
    }

    /**
     * Turns IPv6 off on a device before it goes up, so the kernel sends it no router
     * solicitations or MLD reports: tests that count packets then see only their own.
     * A kernel without IPv6 has nothing to turn off.
     */
    public static void disableIpv6(String device) throws IOException {
        Path knob = Paths.get("/proc/sys/net/ipv6/conf", device, "disable_ipv6");
        if (Files.exists(knob)) {
            Files.writeString(knob, "1\n");
        }
    }
}
