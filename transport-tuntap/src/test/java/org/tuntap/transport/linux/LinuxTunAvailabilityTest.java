package org.tuntap.transport.linux;

import org.junit.jupiter.api.Test;
import org.tuntap.transport.spi.TunIoSystem;

import java.io.File;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On the JDK 22+ test JVM with native access enabled (the build's argLine), on Linux with
 * {@code /dev/net/tun}: the native layer is available, and a JVM without the flag is told how
 * to fix it.
 */
class LinuxTunAvailabilityTest {

    @Test
    void availableOnThisTestJvm() {
        assertTrue(Runtime.version().feature() >= LinuxTun.REQUIRED_JAVA, "the build runs tests on JDK 22+");
        Throwable cause = LinuxTun.unavailabilityCause();
        assertNull(cause, () -> "unavailable: " + cause);
        assertTrue(LinuxTun.isAvailable());
        LinuxTun.ensureAvailability();
        TunIoSystem io = LinuxTun.ioSystem();
        assertNotNull(io);
        assertNotNull(io.readiness());
        assertNotNull(LinuxTun.interfaces());
    }

    @Test
    void withoutNativeAccessTheCauseNamesTheFlag() throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = Arrays.asList(java, "-cp", testClassPath(), AvailabilityProbe.class.getName());
        Commands.Result result = Commands.run(command);
        assertEquals(0, result.exitCode, result.output);
        assertTrue(result.output.contains("available=false"), result.output);
        assertTrue(result.output.contains("--enable-native-access=ALL-UNNAMED"), result.output);
        assertTrue(result.output.contains("ensureAvailability=java.lang.UnsatisfiedLinkError"), result.output);
    }

    @Test
    void withoutNettysEpollLibraryTheCauseSaysSoWithEpollsOwnCause() throws Exception {
        String withoutNativeEpoll = Arrays.stream(testClassPath().split(File.pathSeparator))
                .filter(entry -> !entry.contains("netty-transport-native-epoll"))
                .collect(Collectors.joining(File.pathSeparator));
        assertTrue(testClassPath().contains("netty-transport-native-epoll"), "the test class path has the native jar");
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Commands.Result result = Commands.run(Arrays.asList(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", withoutNativeEpoll, AvailabilityProbe.class.getName()));
        assertEquals(0, result.exitCode, result.output);
        assertTrue(result.output.contains("available=false"), result.output);
        assertTrue(result.output.contains("Netty's native epoll transport is unavailable"), result.output);
        assertTrue(result.output.contains("netty_transport_native_epoll"), "Epoll's own cause: " + result.output);
    }

    /** The class path of this JVM, through surefire's manifest-only jar if it uses one. */
    static String testClassPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null ? surefire : System.getProperty("java.class.path");
    }
}
