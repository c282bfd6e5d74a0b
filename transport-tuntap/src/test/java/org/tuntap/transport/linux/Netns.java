package org.tuntap.transport.linux;

import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The guard of every {@code @Tag("netns")} test: it touches the network only inside the private
 * namespace that build/netns-java makes, skips elsewhere (failing under CI=true).
 */
final class Netns {
    private Netns() {
    }

    static void require() {
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
