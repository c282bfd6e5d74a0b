package org.tuntap.transport;

import org.tuntap.transport.spi.Errno;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What a {@link TunChannel}'s transport has done since it was made: packets and bytes read and
 * written, read and write errors by errno, writes dropped, and how often the device pushed back
 * (a write met EAGAIN). Get it from {@link TunChannel#counters()}; export it to your metrics
 * system next to the codecs' drop counters.
 *
 * <p>Readable from any thread. Only the channel's event loop writes the packet counters (one
 * writer), with release stores: on the hot path that is a plain store, no fence, no allocation,
 * and a packet is counted before its write's promise completes. Error counters are atomic per
 * errno; errors are off the hot path.
 */
public final class TunChannelCounters {
    /** Linux errnos are below 134; slot 0 counts failures that carry no errno. */
    private static final int ERRNO_SLOTS = 256;
    private static final int NO_ERRNO = 0;

    private static final VarHandle PACKETS_READ = handle("packetsRead");
    private static final VarHandle BYTES_READ = handle("bytesRead");
    private static final VarHandle PACKETS_WRITTEN = handle("packetsWritten");
    private static final VarHandle BYTES_WRITTEN = handle("bytesWritten");
    private static final VarHandle WRITES_DROPPED = handle("writesDropped");
    private static final VarHandle WRITE_PUSHBACKS = handle("writePushbacks");

    // Written by the channel's event loop only (single writer: it reads them plainly and
    // publishes with setRelease), read by anyone with getAcquire.
    private long packetsRead;
    private long bytesRead;
    private long packetsWritten;
    private long bytesWritten;
    private long writesDropped;
    private long writePushbacks;
    private final AtomicLongArray readErrors = new AtomicLongArray(ERRNO_SLOTS);
    private final AtomicLongArray writeErrors = new AtomicLongArray(ERRNO_SLOTS);

    TunChannelCounters() {
    }

    /** Packets the channel read from the device (and passed to its pipeline). */
    public long packetsRead() {
        return (long) PACKETS_READ.getAcquire(this);
    }

    /** Bytes of those packets, as read (a PI header included). */
    public long bytesRead() {
        return (long) BYTES_READ.getAcquire(this);
    }

    /** Packets the device took from the channel. */
    public long packetsWritten() {
        return (long) PACKETS_WRITTEN.getAcquire(this);
    }

    /** Bytes of those packets, as written (a PI header included). */
    public long bytesWritten() {
        return (long) BYTES_WRITTEN.getAcquire(this);
    }

    /**
     * Packets the device refused while the channel stayed open (the link down, a packet the
     * kernel rejects): the write's promise failed and the channel went on. A write that finds the
     * device gone closes the channel instead and is counted only among the write errors.
     */
    public long writesDropped() {
        return (long) WRITES_DROPPED.getAcquire(this);
    }

    /**
     * Times the device pushed back: a write met EAGAIN (its queue was full), so the channel kept
     * the packet and waited for writability.
     */
    public long writePushbacks() {
        return (long) WRITE_PUSHBACKS.getAcquire(this);
    }

    /** Reads that failed with {@code errno} ({@link Errno}); 0 counts failures without one. */
    public long readErrors(int errno) {
        return readErrors.get(slot(errno));
    }

    /** Writes that failed with {@code errno} ({@link Errno}); 0 counts failures without one. */
    public long writeErrors(int errno) {
        return writeErrors.get(slot(errno));
    }

    /** Failed reads (EAGAIN and EINTR are flow control and not counted). */
    public long readErrors() {
        return sum(readErrors);
    }

    /** Failed writes (EAGAIN and EINTR are flow control and not counted). */
    public long writeErrors() {
        return sum(writeErrors);
    }

    /** The read errors by errno name ({@code "EIO"}, {@code "errno 0"} for no errno), nonzero only. */
    public Map<String, Long> readErrorsByErrno() {
        return byName(readErrors);
    }

    /** The write errors by errno name, nonzero only. */
    public Map<String, Long> writeErrorsByErrno() {
        return byName(writeErrors);
    }

    @Override
    public String toString() {
        return "read " + packetsRead() + " packets/" + bytesRead() + " B, written " + packetsWritten() + " packets/"
                + bytesWritten() + " B, pushbacks " + writePushbacks() + ", writes dropped " + writesDropped()
                + ", read errors " + readErrorsByErrno() + ", write errors " + writeErrorsByErrno();
    }

    // ---- updates, from the channel's event loop ----

    void packetRead(int bytes) {
        PACKETS_READ.setRelease(this, packetsRead + 1);
        BYTES_READ.setRelease(this, bytesRead + bytes);
    }

    void packetWritten(int bytes) {
        PACKETS_WRITTEN.setRelease(this, packetsWritten + 1);
        BYTES_WRITTEN.setRelease(this, bytesWritten + bytes);
    }

    void writePushedBack() {
        WRITE_PUSHBACKS.setRelease(this, writePushbacks + 1);
    }

    void readFailed(int errno) {
        readErrors.incrementAndGet(slot(errno));
    }

    /** A write failed with {@code errno}. */
    void writeFailed(int errno) {
        writeErrors.incrementAndGet(slot(errno));
    }

    /** The failed write's packet was dropped and the channel goes on. */
    void writeDropped() {
        WRITES_DROPPED.setRelease(this, writesDropped + 1);
    }

    private static VarHandle handle(String field) {
        try {
            return MethodHandles.lookup().findVarHandle(TunChannelCounters.class, field, long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static int slot(int errno) {
        return errno > 0 && errno < ERRNO_SLOTS ? errno : NO_ERRNO;
    }

    private static long sum(AtomicLongArray counts) {
        long total = 0;
        for (int i = 0; i < ERRNO_SLOTS; i++) {
            total += counts.get(i);
        }
        return total;
    }

    private static Map<String, Long> byName(AtomicLongArray counts) {
        Map<String, Long> named = new TreeMap<>();
        for (int i = 0; i < ERRNO_SLOTS; i++) {
            long count = counts.get(i);
            if (count != 0) {
                named.put(Errno.name(i), count);
            }
        }
        return Collections.unmodifiableMap(named);
    }
}
