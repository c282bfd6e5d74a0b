package org.tuntap.transport.linux;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.transport.TunChannel;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs on the JVM Maven runs on (JDK 17 on the build machines, the "baseline" group): the
 * facade loads there, and refuses with a cause naming the JDK it needs and the one it got.
 */
@Tag("baseline")
class LinuxTunBaselineTest {

    @Test
    void refusesOnJdkOlderThan22WithTheReason() {
        int feature = Runtime.version().feature();
        if (feature >= LinuxTun.REQUIRED_JAVA) {
            String reason = "the baseline group ran on Java " + Runtime.version() + ", not on a JDK older than 22";
            if ("true".equals(System.getenv("CI"))) {
                fail(reason);
            }
            Assumptions.abort(reason);
        }
        assertFalse(LinuxTun.isAvailable());
        Throwable cause = LinuxTun.unavailabilityCause();
        assertNotNull(cause);
        String message = cause.getMessage();
        assertTrue(message.contains("JDK 22 or newer"), message);
        assertTrue(message.contains("Java " + Runtime.version()), message);
        UnsatisfiedLinkError error = assertThrows(UnsatisfiedLinkError.class, LinuxTun::ensureAvailability);
        assertTrue(error.getCause() == cause, "ensureAvailability carries the cause");
        assertThrows(UnsatisfiedLinkError.class, LinuxTun::ioSystem);
        // Bootstrap.channel(TunChannel.class) calls the no-argument constructor: the same refusal.
        UnsatisfiedLinkError fromChannel = assertThrows(UnsatisfiedLinkError.class, TunChannel::new);
        assertTrue(fromChannel.getCause() == cause, "the channel's constructor carries the cause");
        assertThrows(UnsatisfiedLinkError.class, () -> new TunChannel(3));
    }
}
