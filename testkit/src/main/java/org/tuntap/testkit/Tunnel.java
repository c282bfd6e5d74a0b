package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.tuntap.codec.EtherType;
import org.tuntap.codec.ethernet.EthernetHeader;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.ipv4.Ipv4Header;
import org.tuntap.codec.pi.PiHeader;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.codec.vnet.VirtioNetHeader;
import org.tuntap.transport.spi.TunIoctl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One open TUN/TAP file of a {@link MemoryIoSystem}: the in-memory stand-in for an fd on
 * {@code /dev/net/tun} (Twisted's {@code twisted.pair.testing.Tunnel}), with the kernel's bytes.
 *
 * <p>The test side queues packets for the program to read ({@link #addToReadBuffer}) and takes
 * out what the program wrote ({@link #takeWritten}); the program side uses {@link #read} and
 * {@link #write}, normally through {@link MemoryIoSystem}. Reads and writes behave like the
 * kernel's: one packet per call, a 4-byte PI header unless {@link TunIoctl#IFF_NO_PI}, a
 * truncated read marked {@link TunIoctl#TUN_PKT_STRIP} with the rest of the packet lost.
 *
 * <p><b>Blocking:</b> a tunnel opened without {@link OpenFlags#O_NONBLOCK} cannot wait: a read
 * of an empty read buffer (or a write over the {@link #setWriteCapacity write capacity}) throws
 * {@link IllegalStateException} saying so. Not EAGAIN, which every reader takes for "nothing
 * yet": a tunnel opened blocking by mistake would look silently empty.
 *
 * <p><b>Threads:</b> every method is safe to call from any thread (the test thread queues packets
 * while an event loop reads). State sits behind one lock; the readiness listener runs after the
 * lock is released, on the thread that made the change.
 *
 * <p><b>Buffers:</b> packets are stored as private {@code byte[]} copies, so nothing here holds a
 * reference-counted buffer. Methods taking a {@link ByteBuf} copy its readable bytes and leave
 * its indexes and its ownership with the caller.
 */
public final class Tunnel implements MemoryFile {

    /**
     * The default {@link #setSendBufferSize send buffer size}: the largest IPv4 datagram plus an
     * Ethernet and a PI header, so like the kernel (whose TUN socket buffer is unlimited) it
     * takes any packet a TUN/TAP device can carry.
     */
    public static final int DEFAULT_SEND_BUFFER_SIZE =
            Ipv4Header.MAX_TOTAL_LENGTH + EthernetHeader.LENGTH + TunIoctl.PI_HEADER_LENGTH + VirtioNetHeader.LENGTH;
    /** Twisted's {@code Tunnel.SEND_BUFFER_SIZE}, for tests of a writer's ENOBUFS handling. */
    public static final int TWISTED_SEND_BUFFER_SIZE = 1024;
    /** A {@link #setWriteCapacity write capacity} or read queue limit that never fills (the default). */
    public static final int UNBOUNDED = Integer.MAX_VALUE;
    /** Linux's default {@code txqueuelen} for a TUN/TAP device: its read queue, in packets. */
    public static final int KERNEL_TX_QUEUE_LEN = 500;

    /** The kernel's {@code TUN_FEATURES}, as far as {@link TunIoctl} names them. */
    static final int DEVICE_FEATURES =
            TunIoctl.IFF_NO_PI | TunIoctl.IFF_MULTI_QUEUE | TunIoctl.IFF_NAPI | TunIoctl.IFF_VNET_HDR;
    /** {@code <linux/if_tun.h>}: TUNGETIFF's "no socket filter attached", the same bit as IFF_NO_PI. */
    private static final int IFF_NOFILTER = 0x1000;
    private static final String NOT_IN_MEMORY = " on a blocking fd would wait forever: the in-memory tunnel"
            + " supports only non-blocking fds (open with OpenFlags.O_NONBLOCK, as OpenFlags.TUN_PORT does)";

    private final MemoryIoSystem system;
    private volatile int openFlags; // O_NONBLOCK and O_CLOEXEC may be added later (addFlags)
    private final Object lock = new Object();
    private long writtenCount; // guarded by lock
    private volatile Runnable readinessListener;

    // Guarded by lock.
    private final ArrayDeque<byte[]> readBuffer = new ArrayDeque<>();
    private final ArrayDeque<byte[]> writeBuffer = new ArrayDeque<>();
    private boolean closed;
    private boolean attached;
    private int tunnelMode;
    private String requestedName;
    private String name;
    private int pendingSignals;
    private int sendBufferSize = DEFAULT_SEND_BUFFER_SIZE;
    private int vnetHeaderSize = VirtioNetHeader.LENGTH; // the kernel's default, sizeof(struct virtio_net_hdr)
    private int offloadFlags;
    private int writeCapacity = UNBOUNDED;
    private int readQueueLimit = UNBOUNDED;
    private long readDrops;
    private int emptyReadErrno = Errno.EAGAIN;
    private Supplier<? extends Exception> emptyReadFailure;
    private final ArrayDeque<Supplier<? extends Exception>> nextReadFailures = new ArrayDeque<>();
    private final NetworkNeighbours neighbours = new NetworkNeighbours();

    /**
     * A tunnel file as {@code open} makes it; it becomes a TUN or TAP device with
     * {@code TUNSETIFF} ({@link #ioctl}). Usually made by {@link MemoryIoSystem#open}.
     *
     * @param system the system whose interface names this tunnel's name must not clash with
     * @param openFlags the {@link OpenFlags} bits given to {@code open}
     */
    public Tunnel(MemoryIoSystem system, int openFlags) {
        this.system = Objects.requireNonNull(system, "system");
        this.openFlags = openFlags;
    }

    // ---- what open and TUNSETIFF set ----

    /** The {@link OpenFlags} bits the file was opened with, and any added since ({@link #addFlags}). */
    public int openFlags() {
        return openFlags;
    }

    /** True unless opened with {@link OpenFlags#O_NONBLOCK}. */
    public boolean blocking() {
        return (openFlags & OpenFlags.O_NONBLOCK) == 0;
    }

    /** True iff opened with {@link OpenFlags#O_CLOEXEC}. */
    public boolean closeOnExec() {
        return (openFlags & OpenFlags.O_CLOEXEC) != 0;
    }

    /** Whether {@code TUNSETIFF} has made this file a device. */
    public boolean isAttached() {
        synchronized (lock) {
            return attached;
        }
    }

    /** The flags given to {@code TUNSETIFF} ({@link TunIoctl}'s {@code IFF_*}), 0 before it. */
    public int tunnelMode() {
        synchronized (lock) {
            return tunnelMode;
        }
    }

    /** Whether the device is TAP (Ethernet frames); {@code IFF_TUN} wins when both are given. */
    public boolean isTap() {
        synchronized (lock) {
            return isTap(tunnelMode);
        }
    }

    /** Whether reads and writes carry the 4-byte PI header (no {@link TunIoctl#IFF_NO_PI}). */
    public boolean hasPacketInformation() {
        synchronized (lock) {
            return hasPacketInformation(tunnelMode);
        }
    }

    /** The name asked for in {@code TUNSETIFF} ({@code ""} to let the kernel choose); null before. */
    public String requestedName() {
        synchronized (lock) {
            return requestedName;
        }
    }

    /** The interface name assigned by {@code TUNSETIFF}, such as {@code tun0}; null before. */
    public String name() {
        synchronized (lock) {
            return name;
        }
    }

    /** Whether the fd has been closed. */
    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /** Whether every packet carries a virtio-net header ({@link TunIoctl#IFF_VNET_HDR} in {@code TUNSETIFF}). */
    public boolean hasVnetHeader() {
        synchronized (lock) {
            return hasVnetHeader(tunnelMode);
        }
    }

    /**
     * The virtio-net header size ({@code TUNSETVNETHDRSZ}; 10 until set). Bytes beyond the 10 of
     * {@code struct virtio_net_hdr} are zeros on read and skipped on write, as in the kernel.
     */
    public int vnetHeaderSize() {
        synchronized (lock) {
            return vnetHeaderSize;
        }
    }

    /** The {@code TUN_F_*} offloads {@code TUNSETOFFLOAD} accepted; 0 before. */
    public int offloadFlags() {
        synchronized (lock) {
            return offloadFlags;
        }
    }

    // ---- test controls ----

    /** Signals that will interrupt the next writes: each one makes one write fail with EINTR. */
    public int pendingSignals() {
        synchronized (lock) {
            return pendingSignals;
        }
    }

    /**
     * Makes the next {@code pendingSignals} writes fail with EINTR, one each, as signals would.
     *
     * @param pendingSignals at least 0
     */
    public void setPendingSignals(int pendingSignals) {
        if (pendingSignals < 0) {
            throw new IllegalArgumentException("pendingSignals: " + pendingSignals + " (expected >= 0)");
        }
        synchronized (lock) {
            this.pendingSignals = pendingSignals;
        }
    }

    /** The largest write accepted; a larger one fails with ENOBUFS. */
    public int sendBufferSize() {
        synchronized (lock) {
            return sendBufferSize;
        }
    }

    /** See {@link #DEFAULT_SEND_BUFFER_SIZE} and {@link #TWISTED_SEND_BUFFER_SIZE}. */
    public void setSendBufferSize(int sendBufferSize) {
        if (sendBufferSize < 1) {
            throw new IllegalArgumentException("sendBufferSize: " + sendBufferSize + " (expected >= 1)");
        }
        synchronized (lock) {
            this.sendBufferSize = sendBufferSize;
        }
    }

    /** How many written packets the write buffer holds before writes fail with EAGAIN. */
    public int writeCapacity() {
        synchronized (lock) {
            return writeCapacity;
        }
    }

    /**
     * Bounds the write buffer to {@code packets} (default {@link #UNBOUNDED}): while it holds
     * that many, writes fail with EAGAIN and {@link #isWritable()} is false, until the test takes
     * packets out. Wakes the readiness listener, since writability may have changed.
     */
    public void setWriteCapacity(int packets) {
        if (packets < 0) {
            throw new IllegalArgumentException("writeCapacity: " + packets + " (expected >= 0)");
        }
        synchronized (lock) {
            writeCapacity = packets;
        }
        fireReadinessListener();
    }

    /**
     * What a non-blocking read of an empty read buffer fails with, as an errno: {@link
     * Errno#EAGAIN} (the default, also {@link Errno#EWOULDBLOCK}), {@link Errno#EINTR}, or any other
     * (a device in an error state). Stays until changed. An errno other than EAGAIN and EINTR makes
     * the tunnel {@linkplain #isReadable() readable}, as epoll reports an fd in an error state, so
     * a level-triggered reader is woken until the test changes it back.
     */
    public void setEmptyReadError(int errno) {
        if (errno <= 0) {
            throw new IllegalArgumentException("errno: " + errno + " (expected > 0)");
        }
        synchronized (lock) {
            emptyReadErrno = errno;
            emptyReadFailure = null;
        }
        fireReadinessListener();
    }

    /**
     * Makes a non-blocking read of an empty read buffer throw what {@code failure} supplies: an
     * {@link ErrnoException} or a {@link RuntimeException} (anything else is reported as an
     * {@link IllegalStateException} naming it). The tunnel then counts as readable, like an fd in
     * an error state (see {@link #setEmptyReadError(int)}).
     */
    public void setEmptyReadError(Supplier<? extends Exception> failure) {
        Objects.requireNonNull(failure, "failure");
        synchronized (lock) {
            emptyReadFailure = failure;
        }
        fireReadinessListener();
    }

    /**
     * Makes the next read fail with {@code errno}, once, whatever is queued (queued packets wait
     * for the read after). Several calls queue several failures. Until it is used the tunnel
     * counts as readable, so a level-triggered reader is woken until it has met the failure.
     */
    public void failNextRead(int errno) {
        if (errno <= 0) {
            throw new IllegalArgumentException("errno: " + errno + " (expected > 0)");
        }
        failNextRead(() -> errnoException(errno));
    }

    /**
     * {@link #failNextRead(int)} with what {@code failure} supplies: an {@link ErrnoException} or
     * a {@link RuntimeException} (anything else is reported as an {@link IllegalStateException}).
     * The tunnel counts as readable until the failure is used.
     */
    public void failNextRead(Supplier<? extends Exception> failure) {
        Objects.requireNonNull(failure, "failure");
        synchronized (lock) {
            nextReadFailures.add(failure);
        }
        fireReadinessListener();
    }

    /** Back to the default: an empty non-blocking read fails with EAGAIN. */
    public void resetEmptyReadError() {
        setEmptyReadError(Errno.EAGAIN);
    }

    // ---- the test's side of the buffers ----

    /**
     * Queues an IP datagram for a later {@link #read}, as if the network had routed it to this
     * device. In TAP mode it is first wrapped in Ethernet from {@link #NETWORK_MAC}, ethertype
     * 0x0800, or 0x86DD when the datagram's version is 6, and like the kernel the network first
     * finds the program's MAC: a datagram to a unicast address it has not learned waits while an
     * ARP request (IPv4) or a neighbour solicitation (IPv6) is queued for the program instead, and
     * goes once the program's answer is {@linkplain #write written} (see {@link #programNeighbour});
     * broadcast and multicast destinations go to their group MACs at once, and a datagram whose
     * destination cannot be read, broadcast. Wakes the readiness listener. When the read buffer already holds its
     * {@linkplain #setReadQueueLimit limit} the packet is dropped and counted instead, as the
     * kernel drops packets for a reader that does not keep up.
     *
     * @return true if queued, false if dropped
     * @throws IllegalStateException before {@code TUNSETIFF} or after close
     */
    public boolean addToReadBuffer(byte[] datagram) {
        return queueForReading(null, datagram.clone(), true);
    }

    /** {@link #addToReadBuffer(byte[])} with the readable bytes of {@code datagram} (not released). */
    public boolean addToReadBuffer(ByteBuf datagram) {
        return queueForReading(null, ByteBufUtil.getBytes(datagram), true);
    }

    /**
     * {@link #addToReadBuffer(byte[])} with the virtio-net header the kernel would put in front of
     * it, on a tunnel with {@link TunIoctl#IFF_VNET_HDR}: how a test hands the program a TSO/USO
     * super-packet or a packet with a partial checksum. (Without a header of its own, a packet
     * queued on such a tunnel gets the empty one.) As in the kernel, the header may only use what
     * {@code TUNSETOFFLOAD} allowed: a TCPV4 super-packet needs {@link TunIoctl#TUN_F_TSO4}, and so on.
     *
     * @param vnetHeader the 10 bytes of {@code struct virtio_net_hdr} (see {@link VirtioNetHeader})
     * @throws IllegalStateException without {@code IFF_VNET_HDR}, or for a header the offloads do not allow
     * @throws IllegalArgumentException if the header is not 10 bytes or its gso_type is unknown
     */
    public boolean addToReadBuffer(byte[] vnetHeader, byte[] datagram) {
        return queueForReading(vnetHeader.clone(), datagram.clone(), true);
    }

    /** {@link #addToReadBuffer(byte[], byte[])} with the readable bytes of both buffers (not released). */
    public boolean addToReadBuffer(ByteBuf vnetHeader, ByteBuf datagram) {
        return queueForReading(ByteBufUtil.getBytes(vnetHeader), ByteBufUtil.getBytes(datagram), true);
    }

    /**
     * The MAC the network side of this TAP device has learned for one of the program's addresses,
     * from the program's ARP packets and neighbour solicitations and advertisements (the
     * kernel's {@code ip neigh}); null if none.
     */
    public MacAddress programNeighbour(java.net.InetAddress address) {
        synchronized (lock) {
            return neighbours.programMac(address);
        }
    }

    /**
     * Tells the network side of this TAP device the program's MAC for an address, as
     * {@code ip neigh add ... lladdr ...} would: datagrams to it are then framed to that MAC with
     * no ARP or neighbour discovery first (and any waiting for it go now).
     */
    public void addProgramNeighbour(java.net.InetAddress address, MacAddress mac) {
        int before;
        int after;
        synchronized (lock) {
            before = readBuffer.size();
            neighbours.setProgramMac(address, mac, this::queueLocked);
            after = readBuffer.size();
        }
        if (after != before) {
            fireReadinessListener();
        }
    }

    /** Datagrams dropped while waiting for the program's MAC, beyond 101 per address (Linux's {@code unres_qlen}). */
    public long unresolvedDrops() {
        synchronized (lock) {
            return neighbours.unresolvedDrops();
        }
    }

    /**
     * Queues exactly {@code packet} for a later {@link #read}, without framing: for an Ethernet
     * frame (ARP, say) on a TAP device, or a malformed packet. Wakes the readiness listener;
     * dropped and counted like {@link #addToReadBuffer(byte[])} when the read buffer is full.
     *
     * @return true if queued, false if dropped
     * @throws IllegalStateException before {@code TUNSETIFF} or after close
     */
    public boolean addRawToReadBuffer(byte[] packet) {
        return queueForReading(null, packet.clone(), false);
    }

    /** {@link #addRawToReadBuffer(byte[])} with the readable bytes of {@code packet} (not released). */
    public boolean addRawToReadBuffer(ByteBuf packet) {
        return queueForReading(null, ByteBufUtil.getBytes(packet), false);
    }

    /** How many packets the read buffer holds before more are dropped. */
    public int readQueueLimit() {
        synchronized (lock) {
            return readQueueLimit;
        }
    }

    /**
     * Bounds the read buffer to {@code packets} (default {@link #UNBOUNDED}, as in Twisted; the
     * kernel's is the device's {@code txqueuelen}, {@link #KERNEL_TX_QUEUE_LEN} by default):
     * packets queued beyond it are dropped and counted in {@link #readDrops()}.
     */
    public void setReadQueueLimit(int packets) {
        if (packets < 0) {
            throw new IllegalArgumentException("readQueueLimit: " + packets + " (expected >= 0)");
        }
        synchronized (lock) {
            readQueueLimit = packets;
        }
    }

    /** Packets dropped because the read buffer was full (the kernel's TX dropped counter). */
    public long readDrops() {
        synchronized (lock) {
            return readDrops;
        }
    }

    /** Packets waiting to be read. */
    public int readBufferSize() {
        synchronized (lock) {
            return readBuffer.size();
        }
    }

    /**
     * Copies of the packets waiting to be read, oldest first, as {@link #read} would see them
     * (without PI header; with {@code IFF_VNET_HDR}, each starts with its 10-byte virtio-net header).
     */
    public List<byte[]> readBuffer() {
        synchronized (lock) {
            return copies(readBuffer);
        }
    }

    /** Packets written and not yet taken out. */
    public int writeBufferSize() {
        synchronized (lock) {
            return writeBuffer.size();
        }
    }

    /** Copies of the written packets, oldest first, left in the write buffer. */
    public List<byte[]> writeBuffer() {
        synchronized (lock) {
            return copies(writeBuffer);
        }
    }

    /** Packets written to this tunnel so far, whether taken out since or not. */
    public long writtenCount() {
        synchronized (lock) {
            return writtenCount;
        }
    }

    /**
     * Blocks until at least {@code count} packets have been written to this tunnel in all (see
     * {@link #writtenCount()}), or the timeout passes: how a test on a threaded event loop waits
     * for the channel's writes without polling or sleeping.
     *
     * @return whether the count was reached
     */
    public boolean awaitWritten(long count, long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        synchronized (lock) {
            while (writtenCount < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return true;
        }
    }

    /**
     * Takes the oldest written packet out of the write buffer, exactly as written (PI header
     * included), or returns null when there is none. Wakes the readiness listener: the tunnel
     * may have become writable.
     */
    public byte[] pollWritten() {
        byte[] packet;
        synchronized (lock) {
            packet = writeBuffer.poll();
        }
        if (packet != null) {
            fireReadinessListener();
        }
        return packet;
    }

    /**
     * {@link #pollWritten()} that insists on a packet.
     *
     * @throws NoSuchElementException when nothing was written
     */
    public byte[] takeWritten() {
        byte[] packet = pollWritten();
        if (packet == null) {
            throw new NoSuchElementException("nothing written to tunnel " + describe());
        }
        return packet;
    }

    /** {@link #pollWritten()} as a buffer the caller must release, or null. */
    public ByteBuf pollWrittenBuffer() {
        byte[] packet = pollWritten();
        return packet == null ? null : Unpooled.wrappedBuffer(packet);
    }

    /** Takes every written packet out, oldest first; wakes the readiness listener if any. */
    public List<byte[]> takeAllWritten() {
        List<byte[]> packets;
        synchronized (lock) {
            packets = new ArrayList<>(writeBuffer);
            writeBuffer.clear();
        }
        if (!packets.isEmpty()) {
            fireReadinessListener();
        }
        return packets;
    }

    /**
     * Takes every written packet out, oldest first, as the network beyond the device receives
     * them: without the PI header, and with {@code IFF_VNET_HDR} without the virtio-net header,
     * a super-packet segmented and a partial checksum completed as the kernel does
     * ({@link KernelSegmentation}), so one written packet may be several here. IP packets on a
     * TUN device, Ethernet frames on a TAP device. Wakes the readiness listener if any.
     *
     * @throws IllegalArgumentException for a written packet the kernel would drop, saying why
     */
    public List<byte[]> takeAllDelivered() {
        int mode = tunnelMode();
        int vnetSize = vnetHeaderSize();
        List<byte[]> delivered = new ArrayList<>();
        for (byte[] packet : takeAllWritten()) {
            delivered.addAll(delivered(packet, mode, vnetSize));
        }
        return delivered;
    }

    /** What the network receives for one written packet (see {@link #takeAllDelivered()}). */
    private static List<byte[]> delivered(byte[] packet, int mode, int vnetSize) {
        int offset = hasPacketInformation(mode) ? TunIoctl.PI_HEADER_LENGTH : 0;
        if (!hasVnetHeader(mode)) {
            return List.of(Arrays.copyOfRange(packet, offset, packet.length));
        }
        byte[] header = Arrays.copyOfRange(packet, offset, offset + VirtioNetHeader.LENGTH);
        byte[] body = Arrays.copyOfRange(packet, offset + vnetSize, packet.length);
        return KernelSegmentation.segment(header, body, isTap(mode));
    }

    /**
     * Replaces every written super-packet (a GSO type or NEEDS_CSUM in its virtio-net header) in
     * the write buffer by the packets the network receives for it, each behind the empty header
     * (and its PI header), as the kernel's receive path segments one for a socket: what lets
     * {@link UdpReceiver} read datagrams a USO super-packet carried.
     */
    void segmentWrittenSuperPackets() {
        synchronized (lock) {
            if (!hasVnetHeader(tunnelMode)) {
                return;
            }
            int pi = hasPacketInformation(tunnelMode) ? TunIoctl.PI_HEADER_LENGTH : 0;
            ArrayDeque<byte[]> replaced = new ArrayDeque<>(writeBuffer.size());
            for (byte[] packet : writeBuffer) {
                boolean plain = packet.length < pi + VirtioNetHeader.LENGTH
                        || packet[pi] == 0 && packet[pi + 1] == 0; // flags and gso_type
                if (plain) {
                    replaced.add(packet);
                    continue;
                }
                for (byte[] segment : delivered(packet, tunnelMode, vnetHeaderSize)) {
                    byte[] framed = new byte[pi + vnetHeaderSize + segment.length];
                    System.arraycopy(packet, 0, framed, 0, pi);
                    System.arraycopy(segment, 0, framed, pi + vnetHeaderSize, segment.length);
                    replaced.add(framed);
                }
            }
            writeBuffer.clear();
            writeBuffer.addAll(replaced);
        }
    }

    // ---- the program's side: the file operations ----

    /**
     * Reads one packet as {@code read(2)} on a TUN fd does, returning at most {@code limit}
     * bytes; see {@link #read(ByteBuf, int)}.
     */
    public byte[] read(int limit) throws ErrnoException {
        ByteBuf destination = Unpooled.buffer(Math.max(0, Math.min(limit, DEFAULT_SEND_BUFFER_SIZE)));
        try {
            read(destination, limit);
            return ByteBufUtil.getBytes(destination);
        } finally {
            destination.release();
        }
    }

    /**
     * Pops the oldest queued packet and writes at most {@code limit} bytes of it to
     * {@code destination}; the rest of a longer packet is lost. Without {@link TunIoctl#IFF_NO_PI}
     * the bytes start with the kernel's {@code struct tun_pi}: flags in host byte order
     * ({@link TunIoctl#TUN_PKT_STRIP} when the packet was cut) and the big-endian ethertype
     * (TUN: 0x0800 for IP version 4, 0x86DD for 6, 0 for anything else; TAP: the frame's own
     * ethertype, as the kernel reports {@code skb->protocol}); the header counts toward
     * {@code limit}, and a {@code limit} below 4 fails with EINVAL and drops the packet, as in
     * the kernel.
     *
     * @throws ErrnoException EBADF after close; EBADFD before {@code TUNSETIFF}; EINVAL for a
     *     {@code limit} below 1; a {@linkplain #failNextRead one-shot failure} first; when
     *     nothing is queued, EAGAIN or what {@link #setEmptyReadError} chose
     * @throws IllegalStateException when nothing is queued on a blocking tunnel (see the class comment)
     */
    @Override
    public int read(ByteBuf destination, int limit) throws ErrnoException {
        Supplier<? extends Exception> injected;
        byte[] packet = null;
        int mode = 0;
        int vnetSize = 0;
        Supplier<? extends Exception> emptyFailure = null;
        int emptyErrno = 0;
        synchronized (lock) {
            checkUsable("read");
            if (limit < 1) {
                throw new ErrnoException("read", Errno.EINVAL, "limit " + limit + " (expected >= 1)");
            }
            injected = nextReadFailures.poll();
            if (injected == null) {
                packet = readBuffer.poll();
                mode = tunnelMode;
                vnetSize = vnetHeaderSize;
                if (packet == null) {
                    if (blocking()) {
                        throw new IllegalStateException("a read of an empty tunnel" + NOT_IN_MEMORY);
                    }
                    emptyFailure = emptyReadFailure;
                    emptyErrno = emptyReadErrno;
                }
            }
        }
        // Suppliers are the test's code: run them with no lock held.
        if (injected != null) {
            throw rethrow(supplied(injected));
        }
        if (packet == null) {
            throw rethrow(emptyReadError(emptyFailure, emptyErrno));
        }
        return copyOut(packet, mode, vnetSize, destination, limit);
    }

    /** {@link #write(ByteBuf)} with the bytes of {@code packet}. */
    public int write(byte[] packet) throws ErrnoException {
        return writePacket(packet.clone());
    }

    /**
     * Writes the readable bytes of {@code source} as one packet (indexes and ownership stay with
     * the caller), checked in this order: a {@linkplain #setPendingSignals pending signal} is
     * consumed and fails the write with EINTR (the writer must retry); more bytes than the
     * {@linkplain #setSendBufferSize send buffer} fail with ENOBUFS; a packet the kernel rejects
     * fails with EINVAL (shorter than the PI header; a TAP frame shorter than the 14-byte Ethernet
     * header; with {@code IFF_NO_PI} a TUN packet not starting with IP version 4 or 6); a full
     * {@linkplain #setWriteCapacity write buffer} fails with EAGAIN. Otherwise a copy, exactly as
     * written, joins the write buffer.
     *
     * @return the number of bytes written: all of them
     * @throws ErrnoException as above; EBADF after close; EBADFD before {@code TUNSETIFF}
     */
    @Override
    public int write(ByteBuf source) throws ErrnoException {
        return writePacket(ByteBufUtil.getBytes(source));
    }

    /**
     * {@code TUNSETIFF}: makes this file a TUN or TAP device, like the kernel. The argument is a
     * {@link Ifreq} of at least {@link Ifreq#SIZE} bytes; the assigned name is written back into
     * its name field. An empty name means {@code tun%d}/{@code tap%d}; a {@code %d} template gets
     * the lowest unit whose name is free on this system; an explicit name is kept. With
     * {@link TunIoctl#IFF_MULTI_QUEUE} several tunnels may take one explicit name, each a queue of
     * the device; as in the kernel the device features ({@code IFF_NO_PI}, ...) of the last
     * TUNSETIFF then apply to every queue.
     *
     * <p>A name that fills all 16 bytes of its field is cut to 15, as the kernel does.
     *
     * @throws ErrnoException EBADFD for another request before {@code TUNSETIFF}, EINVAL after
     *     it; EINVAL for a short argument, a name the kernel refuses (or that is not UTF-8
     *     once cut to 15 bytes), flags with neither {@code IFF_TUN} nor {@code IFF_TAP}, or,
     *     for a name in use, the other device type or a different {@code IFF_MULTI_QUEUE};
     *     EBUSY for a name in use without {@code IFF_MULTI_QUEUE} or with
     *     {@code IFF_TUN_EXCL}; EEXIST when already attached; ENFILE when a template has no free
     *     unit; EBADF after close
     */
    @Override
    public void ioctl(long request, byte[] argument) throws ErrnoException {
        String operation = "ioctl(" + TunIoctl.requestName(request) + ")";
        if (request == TunIoctl.TUNGETIFF) {
            getInterface(argument, operation);
            return;
        }
        if (request == TunIoctl.TUNGETFEATURES) {
            getFeatures(operation, argument);
            return;
        }
        if (request == TunIoctl.TUNSETVNETHDRSZ) {
            setVnetHeaderSize(operation, argument);
            return;
        }
        if (request != TunIoctl.TUNSETIFF) {
            throw unsupportedRequest(operation);
        }
        if (argument == null || argument.length < Ifreq.SIZE) {
            throw new ErrnoException(operation, Errno.EINVAL, "ifreq argument of "
                    + (argument == null ? "null" : argument.length + " bytes") + " (expected " + Ifreq.SIZE + ")");
        }
        synchronized (lock) {
            checkOpen(operation);
            checkNotAttached(operation);
        }
        String requested = terminatedName(argument, operation);
        int flags = Ifreq.flags(argument);
        if ((flags & (TunIoctl.IFF_TUN | TunIoctl.IFF_TAP)) == 0) {
            throw new ErrnoException(operation, Errno.EINVAL,
                    "flags 0x" + Integer.toHexString(flags) + " have neither IFF_TUN nor IFF_TAP");
        }
        String template = requested.isEmpty() ? InterfaceNames.defaultTemplate(isTap(flags)) : requested;
        InterfaceNames.checkValid(template);
        String assigned = system.assignInterfaceName(this, requested, template, flags);
        byte[] nameBytes = assigned.getBytes(StandardCharsets.UTF_8);
        Arrays.fill(argument, 0, Ifreq.NAME_SIZE, (byte) 0);
        System.arraycopy(nameBytes, 0, argument, 0, nameBytes.length);
    }

    /**
     * {@code TUNGETIFF}, as the kernel answers it: the device's name, and its flags (the mode, and
     * the features {@code IFF_NO_PI}, {@code IFF_MULTI_QUEUE}, ...), with {@code IFF_NOFILTER}
     * ORed in as the kernel does for an fd without a socket filter (always, in memory). That bit
     * is {@code IFF_NO_PI}'s, so the answer cannot tell whether packets carry PI.
     *
     * @throws ErrnoException EBADFD before TUNSETIFF, EBADF after close, EINVAL for a short argument
     */
    private void getInterface(byte[] argument, String operation) throws ErrnoException {
        if (argument == null || argument.length < Ifreq.SIZE) {
            throw new ErrnoException(operation, Errno.EINVAL, "ifreq argument of "
                    + (argument == null ? "null" : argument.length + " bytes") + " (expected " + Ifreq.SIZE + ")");
        }
        String device;
        int flags;
        synchronized (lock) {
            checkUsable(operation);
            device = name;
            flags = (isTap(tunnelMode) ? TunIoctl.IFF_TAP : TunIoctl.IFF_TUN) | (tunnelMode & DEVICE_FEATURES)
                    | IFF_NOFILTER;
        }
        byte[] answer = Ifreq.encode(device, flags);
        System.arraycopy(answer, 0, argument, 0, Ifreq.SIZE);
    }

    /** {@code fcntl} for an fd adopted by a channel: adds {@link OpenFlags#O_NONBLOCK} / {@link OpenFlags#O_CLOEXEC}. */
    @Override
    public void addFlags(int flags) throws ErrnoException {
        synchronized (lock) {
            checkOpen("fcntl");
            openFlags |= flags & (OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC);
        }
    }

    /**
     * {@code TUNSETOFFLOAD}, checked as the kernel's {@code set_offload} checks it: a bit the
     * system does not {@linkplain MemoryIoSystem#setSupportedOffloadFlags support}, TSO or USO
     * without CSUM, TSO_ECN without TSO, or USO4 without USO6 (or the reverse) fails with EINVAL.
     *
     * @throws ErrnoException EINVAL as above or for another request; EBADFD before
     *     {@code TUNSETIFF}; EBADF after close
     */
    @Override
    public int ioctl(long request, long value) throws ErrnoException {
        String operation = "ioctl(" + TunIoctl.requestName(request) + ")";
        if (request != TunIoctl.TUNSETOFFLOAD) {
            throw unsupportedRequest(operation);
        }
        synchronized (lock) {
            checkUsable(operation);
        }
        long unknown = value & ~(system.supportedOffloadFlags() & 0xFFFFFFFFL);
        if (unknown != 0) {
            throw new ErrnoException(operation, Errno.EINVAL, "offload bits 0x" + Long.toHexString(unknown)
                    + " unknown to this kernel");
        }
        long rest = value;
        if ((rest & TunIoctl.TUN_F_CSUM) != 0) {
            rest &= ~TunIoctl.TUN_F_CSUM;
            if ((rest & (TunIoctl.TUN_F_TSO4 | TunIoctl.TUN_F_TSO6)) != 0) {
                rest &= ~(TunIoctl.TUN_F_TSO4 | TunIoctl.TUN_F_TSO6 | TunIoctl.TUN_F_TSO_ECN);
            }
            if ((rest & TunIoctl.TUN_F_USO4) != 0 && (rest & TunIoctl.TUN_F_USO6) != 0) {
                rest &= ~(TunIoctl.TUN_F_USO4 | TunIoctl.TUN_F_USO6);
            }
        }
        if (rest != 0) {
            throw new ErrnoException(operation, Errno.EINVAL, "offload bits 0x" + Long.toHexString(rest)
                    + " refused in 0x" + Long.toHexString(value)
                    + " (TSO/USO need CSUM, TSO_ECN needs TSO, USO4 and USO6 go together)");
        }
        synchronized (lock) {
            checkUsable(operation);
            offloadFlags = (int) value;
        }
        return 0;
    }

    /**
     * The kernel's answer to a request other than {@code TUNSETIFF} (or TUNGETIFF, TUNGETFEATURES, TUNSETVNETHDRSZ, TUNSETOFFLOAD):
     * EBADFD before {@code TUNSETIFF}, as for every request on an unattached fd, else EINVAL.
     */
    ErrnoException unsupportedRequest(String operation) throws ErrnoException {
        synchronized (lock) {
            checkOpen(operation);
            if (!attached) {
                return new ErrnoException(operation, Errno.EBADFD, "no TUNSETIFF on this fd yet");
            }
        }
        return new ErrnoException(operation, Errno.EINVAL,
                "only TUNSETIFF, TUNGETIFF, TUNGETFEATURES, TUNSETVNETHDRSZ and TUNSETOFFLOAD are supported in memory");
    }

    /** Closes the file: later operations fail with EBADF; buffers stay readable for assertions. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        fireReadinessListener();
    }

    // ---- Pollable ----

    /**
     * True when a read would not fail with EAGAIN: a packet is queued, the file is closed or not
     * yet attached (the read fails with EBADF/EBADFD, as epoll reports EPOLLERR), a
     * {@linkplain #failNextRead one-shot failure} is waiting, or an
     * {@linkplain #setEmptyReadError empty-read error} other than EAGAIN/EINTR is armed.
     */
    @Override
    public boolean isReadable() {
        synchronized (lock) {
            if (closed || !attached || !readBuffer.isEmpty() || !nextReadFailures.isEmpty()) {
                return true;
            }
            return !blocking() && (emptyReadFailure != null
                    || (emptyReadErrno != Errno.EAGAIN && emptyReadErrno != Errno.EINTR));
        }
    }

    /** True unless the write buffer holds {@link #writeCapacity()} packets (or more). */
    @Override
    public boolean isWritable() {
        synchronized (lock) {
            return closed || !attached || writeBuffer.size() < writeCapacity;
        }
    }

    @Override
    public void setReadinessListener(Runnable listener) {
        readinessListener = listener;
    }

    @Override
    public String toString() {
        return "Tunnel(" + describe() + ")";
    }

    // ---- package-private: called by MemoryIoSystem while it holds its own lock ----

    /** Records a successful TUNSETIFF. */
    void attach(String requested, String assigned, int flags) throws ErrnoException {
        synchronized (lock) {
            checkOpen("ioctl(TUNSETIFF)");
            checkNotAttached("ioctl(TUNSETIFF)");
            attached = true;
            requestedName = requested;
            name = assigned;
            tunnelMode = flags;
        }
    }

    /**
     * Another queue of this device took the features of its TUNSETIFF: like the kernel's
     * {@code tun->flags}, they are the device's, so every queue follows.
     */
    void adoptDeviceFeatures(int flags) {
        synchronized (lock) {
            tunnelMode = (tunnelMode & ~DEVICE_FEATURES) | (flags & DEVICE_FEATURES);
        }
    }

    /** The written packets themselves (not copies), oldest first, for {@link UdpReceiver} to scan. */
    List<byte[]> writtenPackets() {
        synchronized (lock) {
            return new ArrayList<>(writeBuffer);
        }
    }

    /**
     * Takes this very packet (compared by identity) out of the write buffer, waking the readiness
     * listener; false if someone else took it first.
     */
    boolean removeWritten(byte[] packet) {
        boolean removed;
        synchronized (lock) {
            removed = writeBuffer.removeIf(written -> written == packet);
        }
        if (removed) {
            fireReadinessListener();
        }
        return removed;
    }

    // ---- internals ----

    private boolean queueForReading(byte[] vnetHeader, byte[] packet, boolean frameIfTap) {
        if (packet.length == 0) {
            throw new IllegalArgumentException("a packet has at least one byte");
        }
        synchronized (lock) {
            if (vnetHeader != null && !hasVnetHeader(tunnelMode)) {
                throw new IllegalStateException("tunnel " + describe() + " has no IFF_VNET_HDR: no header to give");
            }
            if (closed) {
                throw new IllegalStateException("tunnel " + describe() + " is closed");
            }
            if (!attached) {
                throw new IllegalStateException("tunnel is not a device yet: TUNSETIFF first");
            }
            if (readBuffer.size() >= readQueueLimit) {
                readDrops++;
                return false;
            }
            if (hasVnetHeader(tunnelMode) && vnetHeader != null) {
                checkKernelCouldSend(vnetHeader, offloadFlags);
            }
            if (frameIfTap && isTap(tunnelMode)) {
                neighbours.deliver(vnetHeader, packet, this::queueLocked); // resolves us first, as the kernel does
            } else {
                queueLocked(vnetHeader, packet);
            }
        }
        fireReadinessListener();
        return true;
    }

    /** Adds a packet to the read buffer (with its virtio-net header, or the empty one), or counts it dropped. */
    private void queueLocked(byte[] vnetHeader, byte[] packet) {
        if (readBuffer.size() >= readQueueLimit) {
            readDrops++;
            return;
        }
        byte[] entry = packet;
        if (hasVnetHeader(tunnelMode)) {
            byte[] header = vnetHeader == null ? new byte[VirtioNetHeader.LENGTH] : vnetHeader;
            entry = new byte[header.length + packet.length];
            System.arraycopy(header, 0, entry, 0, header.length);
            System.arraycopy(packet, 0, entry, header.length, packet.length);
        }
        readBuffer.add(entry);
    }

    /** Whether the kernel, with these offloads, could hand the reader a packet with this header. */
    private static void checkKernelCouldSend(byte[] header, int offloads) {
        if (header.length != VirtioNetHeader.LENGTH) {
            throw new IllegalArgumentException("a virtio_net_hdr is " + VirtioNetHeader.LENGTH + " bytes, not " + header.length);
        }
        ByteBuf view = Unpooled.wrappedBuffer(header);
        try {
            int needed;
            switch (VirtioNetHeader.gsoProtocol(view, 0)) {
                case VirtioNetHeader.GSO_NONE: needed = 0; break;
                case VirtioNetHeader.GSO_TCPV4: needed = TunIoctl.TUN_F_TSO4; break;
                case VirtioNetHeader.GSO_TCPV6: needed = TunIoctl.TUN_F_TSO6; break;
                case VirtioNetHeader.GSO_UDP_L4: needed = TunIoctl.TUN_F_USO4 | TunIoctl.TUN_F_USO6; break;
                default: throw new IllegalArgumentException("the kernel sends no gso_type 0x"
                        + Integer.toHexString(VirtioNetHeader.gsoType(view, 0)));
            }
            if ((VirtioNetHeader.gsoType(view, 0) & VirtioNetHeader.GSO_ECN) != 0) {
                needed |= TunIoctl.TUN_F_TSO_ECN;
            }
            if (VirtioNetHeader.needsChecksum(view, 0)) {
                needed |= TunIoctl.TUN_F_CSUM;
            }
            if ((offloads & needed) != needed) {
                throw new IllegalStateException("the kernel sends " + VirtioNetHeader.toString(view, 0)
                        + " only with offloads 0x" + Integer.toHexString(needed) + "; TUNSETOFFLOAD allowed 0x"
                        + Integer.toHexString(offloads));
            }
        } finally {
            view.release();
        }
    }

    private int writePacket(byte[] packet) throws ErrnoException {
        int queuedBefore;
        int queuedAfter;
        synchronized (lock) {
            checkUsable("write");
            if (pendingSignals > 0) {
                pendingSignals--;
                throw ErrnoException.interrupted("write");
            }
            if (packet.length > sendBufferSize) {
                throw new ErrnoException("write", Errno.ENOBUFS,
                        packet.length + " bytes exceed the send buffer of " + sendBufferSize);
            }
            checkWellFormed(packet, tunnelMode, vnetHeaderSize);
            if (writeBuffer.size() >= writeCapacity) {
                if (blocking()) {
                    throw new IllegalStateException("a write to a full tunnel" + NOT_IN_MEMORY);
                }
                throw ErrnoException.wouldBlock("write");
            }
            writeBuffer.add(packet);
            writtenCount++;
            lock.notifyAll(); // for awaitWritten
            queuedBefore = readBuffer.size();
            if (isTap(tunnelMode)) { // the kernel takes in the program's ARP and neighbour discovery
                int offset = (hasPacketInformation(tunnelMode) ? TunIoctl.PI_HEADER_LENGTH : 0)
                        + (hasVnetHeader(tunnelMode) ? vnetHeaderSize : 0);
                neighbours.observe(packet, offset, this::queueLocked);
            }
            queuedAfter = readBuffer.size();
        }
        if (queuedAfter != queuedBefore) {
            fireReadinessListener(); // an answer, or datagrams that waited for the program's MAC
        }
        return packet.length;
    }

    /** The kernel's {@code tun_get_user} checks on a written packet. */
    private static void checkWellFormed(byte[] packet, int mode, int vnetSize) throws ErrnoException {
        int offset = 0;
        if (hasPacketInformation(mode)) {
            if (packet.length < TunIoctl.PI_HEADER_LENGTH) {
                throw new ErrnoException("write", Errno.EINVAL,
                        packet.length + " bytes cannot hold the 4-byte PI header");
            }
            offset = TunIoctl.PI_HEADER_LENGTH;
        }
        if (hasVnetHeader(mode)) {
            checkWrittenVnetHeader(packet, offset, vnetSize);
            offset += vnetSize;
        }
        if (isTap(mode)) {
            if (packet.length - offset < EthernetHeader.LENGTH) {
                throw new ErrnoException("write", Errno.EINVAL,
                        "TAP frame of " + (packet.length - offset) + " bytes is shorter than an Ethernet header");
            }
        } else if (!hasPacketInformation(mode)) {
            int version = packet.length <= offset ? 0 : ipVersion(packet, offset);
            if (version != 4 && version != 6) {
                throw new ErrnoException("write", Errno.EINVAL,
                        "an IFF_NO_PI TUN packet must start with IP version 4 or 6, not " + version);
            }
        }
    }

    /**
     * The kernel's {@code tun_put_user}: the PI header, then the virtio-net header (the stored 10
     * bytes, zero-padded to the set size), then as much of the packet as fits.
     */
    private static int copyOut(byte[] entry, int mode, int vnetSize, ByteBuf destination, int limit)
            throws ErrnoException {
        int stored = hasVnetHeader(mode) ? VirtioNetHeader.LENGTH : 0; // queued entries carry the header
        int bodyLength = entry.length - stored;
        int pi = hasPacketInformation(mode) ? TunIoctl.PI_HEADER_LENGTH : 0;
        int vnet = hasVnetHeader(mode) ? vnetSize : 0;
        if (limit < pi) {
            throw new ErrnoException("read", Errno.EINVAL,
                    "limit " + limit + " cannot hold the 4-byte PI header; the packet is dropped");
        }
        if (limit - pi < vnet) {
            throw new ErrnoException("read", Errno.EINVAL,
                    "limit " + limit + " cannot hold the " + vnet + "-byte virtio-net header; the packet is dropped");
        }
        int room = limit - pi - vnet;
        int length = Math.min(room, bodyLength);
        destination.ensureWritable(pi + vnet + length);
        if (pi > 0) {
            int flags = bodyLength > room ? TunIoctl.TUN_PKT_STRIP : 0;
            PiHeader.set(destination, destination.writerIndex(), flags, protocolOf(entry, stored, mode));
            destination.writerIndex(destination.writerIndex() + pi);
        }
        if (vnet > 0) {
            destination.writeBytes(entry, 0, VirtioNetHeader.LENGTH).writeZero(vnet - VirtioNetHeader.LENGTH);
        }
        destination.writeBytes(entry, stored, length);
        return pi + vnet + length;
    }

    /**
     * The checks of the kernel's {@code tun_get_user} and {@code virtio_net_hdr_to_skb} on the
     * header of a written packet: it must fit, name a gso_type the kernel knows, and with
     * NEEDS_CSUM point its checksum field inside the packet.
     */
    private static void checkWrittenVnetHeader(byte[] packet, int offset, int vnetSize) throws ErrnoException {
        if (packet.length - offset < vnetSize) {
            throw new ErrnoException("write", Errno.EINVAL, (packet.length - offset)
                    + " bytes cannot hold the " + vnetSize + "-byte virtio-net header");
        }
        ByteBuf view = Unpooled.wrappedBuffer(packet);
        try {
            int gso = VirtioNetHeader.gsoProtocol(view, offset);
            if (gso != VirtioNetHeader.GSO_NONE && gso != VirtioNetHeader.GSO_TCPV4 && gso != VirtioNetHeader.GSO_TCPV6
                    && gso != VirtioNetHeader.GSO_UDP && gso != VirtioNetHeader.GSO_UDP_L4) {
                throw new ErrnoException("write", Errno.EINVAL, "unknown gso_type 0x"
                        + Integer.toHexString(VirtioNetHeader.gsoType(view, offset)));
            }
            int bodyLength = packet.length - offset - vnetSize;
            if (VirtioNetHeader.needsChecksum(view, offset) && VirtioNetHeader.csumStart(view, offset)
                    + VirtioNetHeader.csumOffset(view, offset) + 2 > bodyLength) {
                throw new ErrnoException("write", Errno.EINVAL, "NEEDS_CSUM points past the packet: "
                        + VirtioNetHeader.toString(view, offset) + " on " + bodyLength + " bytes");
            }
        } finally {
            view.release();
        }
    }

    /** The PI header's {@code proto}: what the kernel has in {@code skb->protocol}. */
    private static int protocolOf(byte[] packet, int offset, int mode) {
        if (isTap(mode)) {
            if (packet.length - offset < EthernetHeader.LENGTH) {
                return 0;
            }
            ByteBuf frame = Unpooled.wrappedBuffer(packet);
            try {
                return EthernetHeader.outerType(frame, offset);
            } finally {
                frame.release();
            }
        }
        switch (ipVersion(packet, offset)) {
            case 4: return EtherType.IPV4;
            case 6: return EtherType.IPV6;
            default: return 0;
        }
    }

    /**
     * The version nibble every IP header starts with (same place in IPv4 and IPv6), read with
     * the codec's accessor so the header layout lives in one place.
     */
    private static int ipVersion(byte[] packet) {
        return ipVersion(packet, 0);
    }

    /**
     * The version nibble every IP header starts with. Read from the array directly: wrapping it in
     * a buffer for {@code Ipv4Header.version} cost three objects per packet, the most the
     * in-memory echo benchmark allocated after the tunnel's own copies.
     */
    private static int ipVersion(byte[] packet, int offset) {
        return (packet[offset] & 0xFF) >>> 4;
    }

    /**
     * The source MAC of frames {@link #addToReadBuffer} makes in TAP mode: the network's side of
     * the device. Twisted uses {@code 00:00:00:00:00:00}, which no real sender has and which ARP
     * rightly refuses to learn, so a TAP application could never answer; this is the first
     * documentation MAC (RFC 7042) instead.
     */
    public static final MacAddress NETWORK_MAC = MacAddress.parse("00:00:5e:00:53:01");

    private static Exception emptyReadError(Supplier<? extends Exception> failure, int errno) {
        return failure == null ? errnoException(errno) : supplied(failure);
    }

    /** A read failure with {@code errno}: stackless for the flow-control ones, as the SPI asks. */
    private static ErrnoException errnoException(int errno) {
        if (errno == Errno.EAGAIN) {
            return ErrnoException.wouldBlock("read");
        }
        if (errno == Errno.EINTR) {
            return ErrnoException.interrupted("read");
        }
        return new ErrnoException("read", errno, "failure injected by the test");
    }

    private static Exception supplied(Supplier<? extends Exception> failure) {
        Exception supplied = failure.get();
        if (supplied instanceof ErrnoException || supplied instanceof RuntimeException) {
            return supplied;
        }
        return new IllegalStateException("an injected read failure must be an ErrnoException or a RuntimeException, not "
                + supplied, supplied);
    }

    /** Throws what {@link #emptyReadError} made, which is unchecked or an ErrnoException. */
    private static ErrnoException rethrow(Exception error) throws ErrnoException {
        if (error instanceof ErrnoException) {
            throw (ErrnoException) error;
        }
        throw (RuntimeException) error;
    }

    /** The requested name; the kernel puts a NUL in the field's last byte, cutting 16 bytes to 15. */
    private static String terminatedName(byte[] ifreq, String operation) throws ErrnoException {
        for (int i = 0; i < Ifreq.NAME_SIZE; i++) {
            if (ifreq[i] == 0) {
                return Ifreq.name(ifreq);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .decode(ByteBuffer.wrap(ifreq, 0, Ifreq.MAX_NAME_LENGTH)).toString();
        } catch (CharacterCodingException e) {
            // The kernel would take the bytes as they are; names here are Java strings.
            throw new ErrnoException(operation, Errno.EINVAL, "interface name cut to "
                    + Ifreq.MAX_NAME_LENGTH + " bytes, as the kernel cuts it, is not valid UTF-8");
        }
    }

    private void checkUsable(String operation) throws ErrnoException {
        checkOpen(operation);
        if (!attached) {
            throw new ErrnoException(operation, Errno.EBADFD, "no TUNSETIFF on this fd yet");
        }
    }

    private void checkOpen(String operation) throws ErrnoException {
        if (closed) {
            throw new ErrnoException(operation, Errno.EBADF, "tunnel is closed");
        }
    }

    private void checkNotAttached(String operation) throws ErrnoException {
        if (attached) {
            throw new ErrnoException(operation, Errno.EEXIST, "this fd is already attached to " + name);
        }
    }

    private String describe() {
        synchronized (lock) {
            return (name == null ? "unattached" : name) + (closed ? ", closed" : "");
        }
    }

    private void fireReadinessListener() {
        Runnable listener = readinessListener;
        if (listener != null) {
            listener.run();
        }
    }

    static boolean isTap(int mode) {
        return (mode & TunIoctl.IFF_TUN) == 0 && (mode & TunIoctl.IFF_TAP) != 0;
    }

    private static boolean hasPacketInformation(int mode) {
        return (mode & TunIoctl.IFF_NO_PI) == 0;
    }

    private static boolean hasVnetHeader(int mode) {
        return (mode & TunIoctl.IFF_VNET_HDR) != 0;
    }

    /** {@code TUNGETFEATURES}: the flags {@code TUNSETIFF} takes; works before {@code TUNSETIFF}, as in the kernel. */
    private void getFeatures(String operation, byte[] argument) throws ErrnoException {
        if (argument == null || argument.length < Integer.BYTES) {
            throw new ErrnoException(operation, Errno.EFAULT, "the answer needs 4 bytes");
        }
        synchronized (lock) {
            checkOpen(operation);
        }
        ByteBuffer.wrap(argument).order(ByteOrder.nativeOrder())
                .putInt(0, TunIoctl.IFF_TUN | TunIoctl.IFF_TAP | DEVICE_FEATURES);
    }

    /** {@code TUNSETVNETHDRSZ}: at least 10 bytes, else EINVAL, as in the kernel. */
    private void setVnetHeaderSize(String operation, byte[] argument) throws ErrnoException {
        if (argument == null || argument.length < Integer.BYTES) {
            throw new ErrnoException(operation, Errno.EFAULT, "the size is a 4-byte int");
        }
        int size = ByteBuffer.wrap(argument).order(ByteOrder.nativeOrder()).getInt(0);
        synchronized (lock) {
            checkUsable(operation);
            if (size < VirtioNetHeader.LENGTH) {
                throw new ErrnoException(operation, Errno.EINVAL, "virtio-net header size " + size
                        + " (at least " + VirtioNetHeader.LENGTH + ")");
            }
            vnetHeaderSize = size;
        }
    }

    private static List<byte[]> copies(ArrayDeque<byte[]> packets) {
        List<byte[]> result = new ArrayList<>(packets.size());
        for (byte[] packet : packets) {
            result.add(packet.clone());
        }
        return result;
    }
}
