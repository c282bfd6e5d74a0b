package org.tuntap.transport.linux;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native layer runs only where its ioctl numbers, errnos and struct layouts were checked:
 * x86_64 and aarch64. Anywhere else the unavailability cause names the architecture.
 */
class LinuxTunArchitectureTest {

    @ParameterizedTest
    @ValueSource(strings = {"amd64", "x86_64", "aarch64"})
    void acceptsTheArchitecturesItWasCheckedOn(String arch) {
        assertNull(LinuxTun.architectureProblem(arch));
    }

    @ParameterizedTest
    @ValueSource(strings = {"riscv64", "ppc64le", "ppc64", "s390x", "mips64el", "sparcv9", "arm", "x86", "i386", "loongarch64"})
    void refusesAnyOtherNamingIt(String arch) {
        Throwable cause = LinuxTun.architectureProblem(arch);
        assertNotNull(cause, arch);
        assertInstanceOf(UnsupportedOperationException.class, cause);
        assertTrue(cause.getMessage().contains("runs on " + arch + ","), cause.getMessage());
        assertTrue(cause.getMessage().contains("x86_64") && cause.getMessage().contains("aarch64"), cause.getMessage());
    }

    @Test
    void anUnknownArchitectureIsRefusedToo() {
        Throwable cause = LinuxTun.architectureProblem("");
        assertNotNull(cause);
        assertTrue(cause.getMessage().contains("an unknown architecture"), cause.getMessage());
    }

    @Test
    void thisMachinesArchitectureIsOneOfThem() {
        // The build machines are x86_64; the native tests of this module run there.
        assertNull(LinuxTun.architectureProblem(System.getProperty("os.arch")), System.getProperty("os.arch"));
    }
}
