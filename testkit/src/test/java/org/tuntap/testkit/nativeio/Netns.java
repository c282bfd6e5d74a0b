package org.tuntap.testkit.nativeio;

import org.tuntap.transport.linux.LinuxTun;

/** The test kit's native tests: inside the private namespace, a missing native layer is a failure. */
public final class Netns {
    private Netns() {
    }

    /** Returns only inside a private network namespace with the native layer available. */
    public static void require() {
        org.tuntap.testsupport.Netns.require();
        LinuxTun.ensureAvailability();
    }
}
