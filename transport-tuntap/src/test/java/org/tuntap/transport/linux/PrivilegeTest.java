package org.tuntap.transport.linux;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.TunIoctl;

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
        List<String> command = probeWithoutCapabilities("noperm0");
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

    @Test
    void withoutCapNetAdminAPersistentDeviceOfTheProcesssOwnerCanBeAttached() throws Exception {
        // The same uid (root) without capabilities: only the device's owner decides.
        try (TunFd setup = TunFd.attach("ownedp0", TunIoctl.IFF_TUN)) {
            TunFdControl.setPersistent(setup.io, setup.fd, true);
            TunFdControl.setOwner(setup.io, setup.fd, 4242);
        }
        try {
            Commands.Result foreign = Commands.run(probeWithoutCapabilities("ownedp0"));
            assertTrue(foreign.output.contains("errno=" + Errno.EPERM), foreign.output);

            try (TunFd owner = TunFd.attach("ownedp0", TunIoctl.IFF_TUN)) {
                TunFdControl.setOwner(owner.io, owner.fd, 0); // this process's euid
            }
            Commands.Result own = Commands.run(probeWithoutCapabilities("ownedp0"));
            assertTrue(own.output.contains("attached=ownedp0"), own.output);
            assertTrue(own.output.contains("bound=ownedp0"), own.output);
        } finally {
            try (TunFd cleanup = TunFd.attach("ownedp0", TunIoctl.IFF_TUN)) {
                TunFdControl.setPersistent(cleanup.io, cleanup.fd, false);
            }
        }
        assertFalse(Commands.linkExists("ownedp0"));
    }

    /** {@link AttachProbe} in a JVM with every capability dropped (same uid). */
    private static List<String> probeWithoutCapabilities(String device) {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        return Arrays.asList("setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--",
                java, "--enable-native-access=ALL-UNNAMED", "-cp", LinuxTunAvailabilityTest.testClassPath(),
                AttachProbe.class.getName(), device);
    }
}
