package org.tuntap.transport.linux;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.transport.spi.Errno;

import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Creating a device without CAP_NET_ADMIN: a child JVM runs with every capability dropped
 * ({@code setpriv}), and its attempt must fail with EPERM and say which capability it lacks.
 */
@Tag("netns")
class PrivilegeTest {

    @BeforeEach
    void inPrivateNamespace() {
        Netns.require();
    }

    @Test
    void withoutCapNetAdminCreationFailsWithEpermNamingTheCapability() throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = Arrays.asList("setpriv", "--inh-caps=-all", "--ambient-caps=-all",
                "--bounding-set=-all", "--",
                java, "--enable-native-access=ALL-UNNAMED", "-cp", LinuxTunAvailabilityTest.testClassPath(),
                AttachProbe.class.getName(), "noperm0");
        Commands.Result result = Commands.run(command);
        assertEquals(0, result.exitCode, result.output);
        assertTrue(result.output.contains("errno=" + Errno.EPERM), result.output);
        assertTrue(result.output.contains("ioctl(TUNSETIFF) failed: EPERM"), result.output);
        assertTrue(result.output.contains("needs CAP_NET_ADMIN"), result.output);
        // The channel's bind reports the same, as a TunBindException.
        assertTrue(result.output.contains("bindFailure=org.tuntap.transport.TunBindException: cannot bind"
                + " TUN/TAP device 'noperm0': ioctl(TUNSETIFF) failed: EPERM"), result.output);
        assertTrue(result.output.matches("(?s).*bindFailure=[^\n]*CAP_NET_ADMIN.*"), result.output);
        assertFalse(Commands.linkExists("noperm0"));

        // The same probe with the capabilities of this (root) JVM succeeds: the failure above was the privilege.
        List<String> privileged = command.subList(5, command.size());
        Commands.Result ok = Commands.run(privileged);
        assertTrue(ok.output.contains("attached=noperm0"), ok.output);
        assertTrue(ok.output.contains("bound=noperm0"), ok.output);
    }
}
