package org.tuntap.codec.fragment;

import java.time.Duration;

/**
 * The bounds of a {@link FragmentReassembler}, as Linux bounds its own:
 *
 * @param maxBytes bytes of fragments held at once, over all datagrams (Linux's
 *     {@code ipfrag_high_thresh}, 4 MiB by default); a fragment that would go beyond is refused
 * @param timeout how long a datagram may take to complete, from its first fragment (Linux's
 *     {@code ipfrag_time}, 30 s)
 * @param maxFragmentsPerDatagram fragments one datagram may have; a datagram with more is
 *     dropped (a 65535-byte datagram at IPv4's minimum MTU of 576 takes 119)
 */
public record ReassemblyLimits(long maxBytes, Duration timeout, int maxFragmentsPerDatagram) {

    public static final ReassemblyLimits DEFAULT = new ReassemblyLimits(4L << 20, Duration.ofSeconds(30), 128);

    public ReassemblyLimits {
        if (maxBytes <= 0 || timeout.isNegative() || timeout.isZero() || maxFragmentsPerDatagram < 1) {
            throw new IllegalArgumentException("limits must be positive: " + maxBytes + " bytes, " + timeout + ", "
                    + maxFragmentsPerDatagram + " fragments");
        }
    }
}
