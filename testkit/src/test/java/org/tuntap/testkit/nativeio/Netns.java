package org.tuntap.testkit.nativeio;

import org.junit.jupiter.api.Assumptions;
import org.tuntap.transport.linux.LinuxTun;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The guard of every {@code @Tag("netns")} test in the test kit: the network is touched only
 * inside the private namespace build/netns-jdk/bin/java makes; elsewhere the test is skipped with
 * the launcher's reason, except under CI=true, where it fails.
 */
public final class Netns {
    private Netns() {
    }

    /** Returns only inside a private network namespace with the native layer available. */
    public static void require() {
        if (!"1".equals(System.getenv("TUNTAP_NETNS"))) {
            String reason = "not in a private network namespace: " + System.getenv("TUNTAP_NETNS_UNAVAILABLE");
            if ("true".equals(System.getenv("CI"))) {
                fail(reason + " (CI=true: device tests must run)");
            }
            Assumptions.abort(reason);
        }
        LinuxTun.ensureAvailability(); // inside the namespace a missing native layer is a failure
    }
}
