package org.tuntap.testsupport;

import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The guard of every {@code @Tag("netns")} test: the network is touched only inside the private
 * namespace that build/netns-jdk/bin/java makes (it sets {@code TUNTAP_NETNS=1}); elsewhere the
 * test is skipped with the launcher's reason, except under {@code CI=true}, where it fails.
 */
public final class Netns {
    private Netns() {
    }

    /** Returns only inside a private network namespace. */
    public static void require() {
        if ("1".equals(System.getenv("TUNTAP_NETNS"))) {
            return;
        }
        String reason = "not in a private network namespace: " + System.getenv("TUNTAP_NETNS_UNAVAILABLE");
        if ("true".equals(System.getenv("CI"))) {
            fail(reason + " (CI=true: device tests must run)");
        }
        Assumptions.abort(reason);
    }
}
