package org.tuntap.transport;

import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunIoSystem;
import org.tuntap.transport.spi.TunIoctl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What bind does for {@link TunChannelOption#VNET_HDR}: checks that the kernel offers
 * {@code IFF_VNET_HDR}, sets the header size, and asks for the offloads, dropping those the
 * kernel refuses.
 *
 * <p>{@code TUNSETOFFLOAD} fails with EINVAL for a bit the kernel does not know (USO before Linux
 * 6.2) or a combination it does not take (TSO without CSUM, USO4 without USO6), and that is the
 * only way to probe. So on EINVAL the newest offloads go first (USO, then TSO_ECN, TSO6, TSO4,
 * CSUM) until the kernel accepts; the empty set always is.
 */
final class OffloadNegotiation {

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(OffloadNegotiation.class);

    /** What to drop next when the kernel refuses a set, newest kernel feature first. */
    private static final List<Set<TunOffload>> FALLBACK_ORDER = List.of(
            EnumSet.of(TunOffload.USO4, TunOffload.USO6),
            EnumSet.of(TunOffload.TSO_ECN),
            EnumSet.of(TunOffload.TSO6),
            EnumSet.of(TunOffload.TSO4),
            EnumSet.of(TunOffload.CSUM));

    private OffloadNegotiation() {
    }

    /**
     * Before {@code TUNSETIFF}: fails unless the kernel offers {@code IFF_VNET_HDR}. Falling back
     * to no header would change the bytes of every packet under the user, so this is an error.
     */
    static void checkVnetHeaderSupported(TunIoSystem io, int fd) throws ErrnoException {
        byte[] features = new byte[Integer.BYTES];
        io.ioctl(fd, TunIoctl.TUNGETFEATURES, features);
        int offered = ByteBuffer.wrap(features).order(ByteOrder.nativeOrder()).getInt();
        if ((offered & TunIoctl.IFF_VNET_HDR) == 0) {
            throw new ErrnoException("TUNGETFEATURES", Errno.EINVAL,
                    "this kernel does not offer IFF_VNET_HDR (features 0x" + Integer.toHexString(offered) + ")");
        }
    }

    /**
     * After {@code TUNSETIFF} with {@code IFF_VNET_HDR}: sets the 10-byte header (a persistent
     * device may have been left with another size) and the offloads.
     *
     * @return the offloads the kernel accepted, a subset of {@code requested}
     * @throws ErrnoException for a failure other than a refused offload set
     */
    static Set<TunOffload> apply(TunIoSystem io, int fd, String device, Set<TunOffload> requested)
            throws ErrnoException {
        byte[] size = ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.nativeOrder())
                .putInt(TunIoctl.VNET_HDR_LENGTH).array();
        io.ioctl(fd, TunIoctl.TUNSETVNETHDRSZ, size);

        EnumSet<TunOffload> trying = requested.isEmpty() ? EnumSet.noneOf(TunOffload.class) : EnumSet.copyOf(requested);
        int next = 0;
        for (;;) {
            try {
                io.ioctl(fd, TunIoctl.TUNSETOFFLOAD, TunOffload.flags(trying));
                if (!trying.equals(requested)) {
                    logger.debug("{}: offloads {} applied of {} requested", device, trying, requested);
                }
                return Collections.unmodifiableSet(trying);
            } catch (ErrnoException e) {
                if (e.errno() != Errno.EINVAL || trying.isEmpty()) {
                    throw e;
                }
                // Drop the next group that is actually in the set, so every retry asks for less.
                while (next < FALLBACK_ORDER.size() && Collections.disjoint(trying, FALLBACK_ORDER.get(next))) {
                    next++;
                }
                Set<TunOffload> dropped = FALLBACK_ORDER.get(next++);
                logger.debug("{}: the kernel refused offloads {} ({}); retrying without {}",
                        device, trying, e.getMessage(), dropped);
                trying.removeAll(dropped);
            }
        }
    }
}
