package org.tuntap.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.StringUtil;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.tuntap.transport.linux.LinuxTun;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.Ifreq;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoSystem;
import org.tuntap.transport.spi.TunIoctl;
import org.tuntap.transport.spi.TunReadiness;
import org.tuntap.transport.spi.TunRing;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * A Netty channel on a TUN or TAP device: each inbound message is one packet (a {@link ByteBuf}
 * holding an IP packet, or an Ethernet frame in TAP mode, behind a PI header if
 * {@link TunChannelOption#PACKET_INFO} is on), and each outbound {@link ByteBuf} is written as one
 * packet.
 *
 * <p>All I/O goes through a {@link TunIoSystem}: the native Linux one, or the in-memory tunnel
 * of the test kit. Create channels with {@link #factory(TunIoSystem)}:
 * <pre>{@code
 * new Bootstrap().group(group)
 *         .channelFactory(TunChannel.factory(ioSystem))
 *         .option(TunChannelOption.MODE, TunMode.TUN)
 *         .handler(initializer)
 *         .bind(new TunAddress("tun%d"));
 * }</pre>
 * Binding opens {@code /dev/net/tun} and creates or attaches to the device; the bind fails with a
 * {@link TunBindException} naming the cause (and leaves no fd open). The channel's
 * {@link #localAddress()} is then the device's real name.
 *
 * <p>With {@link TunChannelOption#VNET_HDR} on, every packet carries a {@code virtio_net_hdr} (the codec module's
 * {@code org.tuntap.codec.vnet.VirtioNetHeader} reads it)
 * in front (after the PI header, if any), both ways: a read may then be a super-packet of up to
 * 64 KiB (see {@link TunChannelOption#OFFLOADS}) described by its header, which a forwarder passes
 * on whole, and every written {@code ByteBuf} must start with a header.
 *
 * <p>Reads follow Netty's receive allocator (at most {@link TunChannelOption#READ_BUDGET}
 * packets per readiness event). EAGAIN and EINTR end a read loop quietly; any other read error
 * is fired to {@code exceptionCaught} and closes the channel. Writes retry EINTR, wait for
 * writability on EAGAIN (the packet stays queued and counts against the write-buffer water
 * marks), and fail the write's promise on other errors. EIO on a write means the link is down
 * ({@code ip link set DEV down}; the device still exists): the packet is dropped, counted in
 * {@link #droppedWrites()}, its promise fails, and the channel stays open, so traffic resumes
 * when the link comes back up. An error that means the device is gone (EBADFD after
 * {@code ip link del}, EBADF, ENODEV, ENXIO) closes the channel. {@link #counters()} counts all
 * of it.
 *
 * <p><b>Adopting an fd opened elsewhere</b> (a privileged helper opened and configured the
 * device and passed the fd over a Unix socket, say): {@link #TunChannel(TunIoSystem, int)} or,
 * on the native layer, {@link #TunChannel(int)}, as Netty's {@code EpollDatagramChannel(int)}.
 * The channel learns the device's name and mode from the kernel ({@code TUNGETIFF}; packet
 * information only when the answer can tell, see {@link TunChannelConfig#setPacketInfo}), makes
 * the fd non-blocking and close-on-exec, and is active at once:
 * {@code register()} it (a {@code bind} to its own name is accepted and does nothing). Closing
 * the channel closes the fd unless {@link TunChannelOption#CLOSE_ADOPTED_FD} is false.
 *
 * <p><b>On Netty's io_uring loop</b> ({@code IoUringIoHandler.newFactory()} instead of
 * {@code EpollIoHandler.newFactory()}; native layer only) the channel does its I/O through the
 * ring: a poll says when the fd is readable, then a batch of up to 32 reads (at most the read
 * budget) into native slots, each packet copied into a buffer from the channel's allocator;
 * each written packet is copied into one of 64 native write slots and queued. Slots are
 * {@link TunChannelOption#MAX_PACKET_SIZE} bytes. The loop hands everything queued to the kernel
 * in the one {@code io_uring_enter} it makes per turn: one system call for a batch of reads and
 * writes, where epoll takes one {@code read} or {@code write} per packet. A read batch ends with
 * one {@code channelReadComplete}. A write's promise completes when the kernel has taken the
 * packet (or refused it, as above); a packet larger than a slot is written directly, in its
 * turn. Closing fails the promises of writes still in the ring, though the kernel may yet send
 * them, and the fd is closed once the ring's last operation on it is complete: at the loop's
 * next turn, just after the close.
 *
 * <p>{@code Bootstrap.channel(TunChannel.class)} makes channels on the native layer
 * ({@link #TunChannel()}).
 */
public final class TunChannel extends AbstractChannel {

    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TunChannel.class);
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, TunChannelConfig.DEFAULT_READ_BUDGET);
    private static final int NO_FD = -1;
    /** Writes a channel on an io_uring loop may have in flight: one read batch's echoes fit. */
    private static final int RING_WRITE_SLOTS = 64;

    private final TunIoSystem io;
    private final TunReadiness readiness;
    /** The fd layer's io_uring ring, or null: used instead of readiness on a loop of its kind. */
    private final TunRing ring;
    private final TunChannelConfig config;
    private final TunChannelCounters counters = new TunChannelCounters();
    private final boolean adopted;

    private volatile boolean open = true;
    private volatile int fd = NO_FD;
    private volatile TunAddress localAddress;

    // Event-loop state.
    private IoRegistration registration;
    private boolean readInterest;
    private boolean writeInterest;
    private boolean readPending;
    /** On an io_uring loop: the fd's port there (else null), and its writer. */
    private TunRing.Port port;
    private final RingWriter ringWriter = new RingWriter();
    /** The receive allocator's handle for the ring's read batch in progress. */
    private RecvByteBufAllocator.ExtendedHandle ringReadHandle;

    /**
     * A channel on the native Linux layer ({@link LinuxTun#ioSystem()}), for
     * {@code Bootstrap.channel(TunChannel.class)}; it opens its device at bind.
     *
     * @throws UnsatisfiedLinkError if the native layer is unavailable, with
     *     {@link LinuxTun#unavailabilityCause()} as its cause
     */
    public TunChannel() {
        this(LinuxTun.ioSystem());
    }

    /**
     * A channel doing its I/O through {@code io}; {@link #factory(TunIoSystem)} makes these for
     * a {@code Bootstrap}. Register it with an event loop of the kind the layer's
     * {@link TunIoSystem#readiness()} works with, then bind it to a {@link TunAddress}.
     *
     * @param io the fd layer: {@code LinuxTun.ioSystem()} or an in-memory one
     */
    public TunChannel(TunIoSystem io) {
        super(null);
        this.io = Objects.requireNonNull(io, "io");
        this.readiness = Objects.requireNonNull(io.readiness(), "io.readiness()");
        this.ring = io.ring();
        this.config = new TunChannelConfig(this);
        this.adopted = false;
    }

    /**
     * Adopts a TUN/TAP fd opened elsewhere, on the native Linux layer: see
     * {@link #TunChannel(TunIoSystem, int)}.
     *
     * @throws UnsatisfiedLinkError if the native layer is unavailable
     */
    public TunChannel(int fd) {
        this(LinuxTun.ioSystem(), fd);
    }

    /**
     * Adopts {@code fd}, an fd of {@code io} already attached to a TUN/TAP device: the channel's
     * {@link #localAddress()}, {@link TunChannelOption#MODE} and {@link TunChannelOption#MULTI_QUEUE}
     * become the device's ({@code TUNGETIFF}), and the fd is made non-blocking and close-on-exec.
     * {@link TunChannelOption#PACKET_INFO} is on only if the kernel's answer proves it (its
     * {@code IFF_NO_PI} bit doubles as {@code IFF_NOFILTER}); set it before registration when the
     * device has packet information. The channel is active from here on: register it
     * with a loop ({@code Bootstrap.register()}), no bind needed. Closing the channel closes the
     * fd, unless {@link TunChannelOption#CLOSE_ADOPTED_FD} is set to false.
     *
     * @throws ChannelException if {@code fd} is not an open fd attached to a TUN/TAP device (the
     *     cause is the {@link ErrnoException}); the fd is then left as it was given, open
     */
    public TunChannel(TunIoSystem io, int fd) {
        super(null);
        this.io = Objects.requireNonNull(io, "io");
        this.readiness = Objects.requireNonNull(io.readiness(), "io.readiness()");
        this.ring = io.ring();
        this.config = new TunChannelConfig(this);
        this.adopted = true;
        byte[] ifreq = new byte[Ifreq.SIZE];
        try {
            io.ioctl(fd, TunIoctl.TUNGETIFF, ifreq);
            io.addFlags(fd, OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC);
        } catch (ErrnoException e) {
            throw new ChannelException("cannot adopt fd " + fd + " as a TUN/TAP device: " + e.getMessage()
                    + (e.errno() == Errno.EBADFD ? " (the fd is not attached to a device yet: TUNSETIFF first)" : ""), e);
        }
        int flags = Ifreq.flags(ifreq);
        config.learnDevice(flags);
        this.localAddress = new TunAddress(Ifreq.name(ifreq));
        this.fd = fd;
    }

    /** A factory for {@code Bootstrap.channelFactory(...)}: channels on the given fd layer. */
    public static ChannelFactory<TunChannel> factory(TunIoSystem io) {
        Objects.requireNonNull(io, "io");
        return () -> new TunChannel(io);
    }

    /** The fd layer this channel does its I/O through. */
    public TunIoSystem ioSystem() {
        return io;
    }

    /** The device's file descriptor, or -1 before bind and after close. */
    public int fd() {
        return fd;
    }

    /** Whether this channel adopted an fd opened elsewhere (rather than opening one at bind). */
    public boolean isAdopted() {
        return adopted;
    }

    /** The transport's counters: packets, bytes, errors by errno, drops, pushbacks. */
    public TunChannelCounters counters() {
        return counters;
    }

    /**
     * Packets the device refused while the channel stayed open (the link down, a packet the
     * kernel rejects): each one's write promise failed with the {@link ErrnoException}.
     * Readable from any thread. The same as {@code counters().writesDropped()}.
     */
    public long droppedWrites() {
        return counters.writesDropped();
    }

    @Override
    public TunChannelConfig config() {
        return config;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    /** Active once bound to a device, until closed. */
    @Override
    public boolean isActive() {
        return open && fd != NO_FD;
    }

    @Override
    public TunAddress localAddress() {
        return (TunAddress) super.localAddress();
    }

    /** Always null: a device has no remote end. */
    @Override
    public SocketAddress remoteAddress() {
        return null;
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return loop instanceof IoEventLoop
                && (readiness.isCompatible((IoEventLoop) loop) || onRing((IoEventLoop) loop));
    }

    @Override
    protected SocketAddress localAddress0() {
        return localAddress;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return null;
    }

    @Override
    protected TunUnsafe newUnsafe() {
        return new TunUnsafe();
    }

    /** Registration with the loop waits for an fd: until bind there is nothing to watch. */
    @Override
    protected void doRegister(ChannelPromise promise) {
        if (fd == NO_FD) {
            promise.setSuccess();
        } else {
            registerFd(promise);
        }
    }

    /** Whether {@code loop} is an io_uring loop this channel's fd layer has a ring for. */
    private boolean onRing(IoEventLoop loop) {
        return ring != null && ring.isCompatible(loop);
    }

    private void registerFd(ChannelPromise promise) {
        IoEventLoop loop = (IoEventLoop) eventLoop();
        TunRing.Port newPort = onRing(loop)
                ? ring.port(fd, config.getMaxPacketSize(), RING_WRITE_SLOTS, (TunUnsafe) unsafe()) : null;
        IoHandle handle = newPort != null ? newPort : readiness.handle(fd, (TunUnsafe) unsafe());
        Future<IoRegistration> registered = loop.register(handle);
        registered.addListener(f -> {
            if (f.isSuccess()) {
                registration = registered.getNow();
                if (newPort != null) {
                    port = newPort;
                    newPort.start(registration);
                }
                submitInterest();
                if (promise != null) {
                    promise.setSuccess();
                }
            } else if (promise != null) {
                promise.setFailure(f.cause());
            } else {
                pipeline().fireExceptionCaught(f.cause());
                unsafe().close(voidPromise());
            }
        });
    }

    @Override
    protected void doBind(SocketAddress address) throws Exception {
        if (!(address instanceof TunAddress)) {
            throw new IllegalArgumentException("a TunChannel binds to a TunAddress (an interface name), not "
                    + (address == null ? "null" : StringUtil.simpleClassName(address)));
        }
        String requested = ((TunAddress) address).name();
        if (fd != NO_FD) {
            // Bound already (an adopted fd, or a second bind): only its own name is accepted.
            if (requested.isEmpty() || address.equals(localAddress)) {
                return;
            }
            throw new IllegalStateException(this + " is already bound to " + localAddress
                    + (adopted ? " (an adopted fd: register it, no bind needed)" : "") + "; cannot bind to " + requested);
        }
        String name = requested.isEmpty() ? config.getMode().defaultNameTemplate() : requested;
        int newFd;
        try {
            newFd = io.open(TunIoctl.DEVICE_PATH, OpenFlags.TUN_PORT);
        } catch (ErrnoException e) {
            throw new TunBindException(name, e);
        }
        try {
            if (config.isVnetHdr()) {
                OffloadNegotiation.checkVnetHeaderSupported(io, newFd);
            }
            byte[] ifreq = Ifreq.encode(name, config.ifreqFlags());
            io.ioctl(newFd, TunIoctl.TUNSETIFF, ifreq);
            applyDeviceSettings(newFd);
            if (config.isVnetHdr()) {
                config.setAppliedOffloads(OffloadNegotiation.apply(io, newFd, Ifreq.name(ifreq), config.getOffloads()));
            }
            localAddress = new TunAddress(Ifreq.name(ifreq), config.getMode());
        } catch (Throwable t) {
            closeQuietly(newFd);
            if (t instanceof ErrnoException) {
                throw new TunBindException(name, (ErrnoException) t);
            }
            throw t;
        }
        fd = newFd;
        registerFd(null);
    }

    private void applyDeviceSettings(int deviceFd) throws ErrnoException {
        Boolean persist = config.getPersist();
        if (persist != null) {
            io.ioctl(deviceFd, TunIoctl.TUNSETPERSIST, persist ? 1 : 0);
        }
        if (config.getOwner() >= 0) {
            io.ioctl(deviceFd, TunIoctl.TUNSETOWNER, config.getOwner());
        }
        if (config.getGroup() >= 0) {
            io.ioctl(deviceFd, TunIoctl.TUNSETGROUP, config.getGroup());
        }
    }

    private void closeQuietly(int deviceFd) {
        try {
            io.close(deviceFd);
        } catch (ErrnoException e) {
            logger.debug("closing fd {}: {}", deviceFd, e.getMessage());
        }
    }

    /** A device has no peer to disconnect from: disconnect closes (see {@link ChannelMetadata}). */
    @Override
    protected void doDisconnect() throws Exception {
        doClose();
    }

    @Override
    protected void doClose() throws Exception {
        open = false;
        int closing = fd;
        fd = NO_FD;
        boolean closeFd = closing != NO_FD && (!adopted || config.isCloseAdoptedFd());
        if (port != null) {
            // Writes the ring has queued name the fd by number, and the kernel takes them at the
            // loop's next submit: the number must stay this device's until they are done.
            cancelRegistration(closeFd ? () -> closeQuietly(closing) : null);
            return;
        }
        cancelRegistration(null);
        if (closeFd) {
            io.close(closing);
        }
    }

    @Override
    protected void doDeregister() {
        cancelRegistration(null);
    }

    /** @param whenIdle on an io_uring loop, what to run once the kernel holds nothing of the fd's */
    private void cancelRegistration(Runnable whenIdle) {
        IoRegistration current = registration;
        registration = null;
        readInterest = false;
        writeInterest = false;
        if (port != null) {
            port.release(whenIdle); // before the cancel: releasing submits the poll's cancellation
            port = null;
            ringWriter.clear(); // their completions will not be reported; close fails their promises
        }
        if (current != null) {
            current.cancel();
        }
    }

    @Override
    protected void doBeginRead() {
        readPending = true;
        if (!readInterest) {
            readInterest = true;
            submitInterest();
        }
    }

    private void setWriteInterest(boolean interested) {
        if (writeInterest != interested) {
            writeInterest = interested;
            submitInterest();
        }
    }

    private void clearReadInterest() {
        if (readInterest) {
            readInterest = false;
            submitInterest();
        }
    }

    private void submitInterest() {
        IoRegistration current = registration;
        if (port != null) {
            port.pollReadable(readInterest); // a ring write never waits for writability
        } else if (current != null && current.isValid()) {
            current.submit(readiness.ops(readInterest, writeInterest));
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf) {
            return msg;
        }
        throw new UnsupportedOperationException("unsupported message type: " + StringUtil.simpleClassName(msg)
                + " (a TunChannel writes ByteBufs, one packet each; add the codecs for anything else)");
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        if (port != null) {
            writeThroughRing(in);
            return;
        }
        int budget = maxMessagesPerWrite();
        while (budget > 0) {
            ByteBuf packet = (ByteBuf) in.current();
            if (packet == null) {
                setWriteInterest(false);
                return;
            }
            try {
                counters.packetWritten(io.write(fd, packet)); // before the promise completes
                in.remove();
                budget--;
            } catch (ErrnoException e) {
                if (e.isInterrupted()) {
                    continue; // a signal: the packet was not written, write it again
                }
                if (e.isWouldBlock()) {
                    counters.writePushedBack();
                    setWriteInterest(true); // keep the packet; flush again when writable
                    return;
                }
                if (writeFailed(in, e)) {
                    continue; // link down (EIO) or a refused packet: keep going
                }
                return;
            }
        }
        // Budget spent with packets left: let other channels on the loop run, then continue.
        eventLoop().execute(() -> ((TunUnsafe) unsafe()).flushNow());
    }

    /**
     * The packet at the head of {@code in} failed with {@code e}: its promise fails, and the
     * channel stays open unless the device is gone. Returns whether it stays open.
     */
    private boolean writeFailed(ChannelOutboundBuffer in, ErrnoException e) {
        counters.writeFailed(e.errno());
        in.remove(e);
        if (!isDeviceGone(e)) {
            counters.writeDropped();
            return true;
        }
        // Every later write would fail the same way (and with auto-read off no read would
        // notice): report it once and close, as the read loop does.
        pipeline().fireExceptionCaught(e);
        unsafe().close(voidPromise());
        return false;
    }

    /**
     * On an io_uring loop: queues on the port the flushed packets not in flight yet. Each stays
     * in the outbound buffer, counted against the water marks, until its completion
     * ({@link TunUnsafe#written}) removes it and completes its promise. A packet larger than a
     * write slot is written here with one system call, once no write before it is in flight.
     */
    private void writeThroughRing(ChannelOutboundBuffer in) {
        while (true) {
            ringWriter.blocked = null;
            ringWriter.skip = ringWriter.inFlight();
            try {
                in.forEachFlushedMessage(ringWriter);
            } catch (Exception e) { // the writer throws nothing
                throw new IllegalStateException(e);
            }
            if (ringWriter.blocked == null) {
                return;
            }
            if (ringWriter.blocked == TunRing.WriteResult.FULL || ringWriter.inFlight() > 0) {
                ringWriter.waiting = true; // a completion flushes again
                return;
            }
            // TOO_LARGE with nothing in flight: the oversized packet is the head.
            ByteBuf packet = (ByteBuf) in.current();
            try {
                counters.packetWritten(io.write(fd, packet));
                in.remove();
            } catch (ErrnoException e) {
                if (e.isWouldBlock() || e.isInterrupted()) {
                    counters.writePushedBack();
                    eventLoop().execute(() -> ((TunUnsafe) unsafe()).flushNow());
                    return;
                }
                if (!writeFailed(in, e)) {
                    return;
                }
            }
        }
    }

    /**
     * Queues flushed packets on the port, passing over those already in flight, and remembers
     * which packets are in flight, oldest first: a completion belongs to the oldest.
     */
    private final class RingWriter implements ChannelOutboundBuffer.MessageProcessor {
        private final Object[] queued = new Object[RING_WRITE_SLOTS];
        private int oldest;
        private int count;
        int skip;
        TunRing.WriteResult blocked;
        /** Whether packets wait for a slot (or for the ring to drain): the next completion flushes. */
        boolean waiting;

        int inFlight() {
            return count;
        }

        @Override
        public boolean processMessage(Object msg) {
            if (skip > 0) {
                skip--;
                return true;
            }
            if (count == queued.length) {
                blocked = TunRing.WriteResult.FULL;
                return false;
            }
            TunRing.WriteResult result = port.write((ByteBuf) msg);
            if (result != TunRing.WriteResult.QUEUED) {
                blocked = result;
                return false;
            }
            queued[(oldest + count++) % queued.length] = msg;
            return true;
        }

        /** The oldest packet in flight, taken off the list; null if none. */
        Object completeOldest() {
            if (count == 0) {
                return null;
            }
            Object msg = queued[oldest];
            queued[oldest] = null;
            oldest = (oldest + 1) % queued.length;
            count--;
            return msg;
        }

        void clear() {
            Arrays.fill(queued, null);
            oldest = 0;
            count = 0;
            waiting = false;
        }
    }

    /**
     * Errnos after which the fd is of no more use: the device was deleted (EBADFD, for reads and
     * writes alike) or the fd is bad. Not EIO: the kernel gives it to a write while the link is
     * down, and the device works again once it is up.
     */
    private static boolean isDeviceGone(ErrnoException e) {
        switch (e.errno()) {
            case Errno.EBADFD:
            case Errno.EBADF:
            case Errno.ENODEV:
            case Errno.ENXIO:
                return true;
            default:
                return false;
        }
    }

    /** The channel's unsafe, and its {@link IoHandle} on the event loop (Netty's idiom). */
    final class TunUnsafe extends AbstractUnsafe implements IoHandle, TunRing.Events {

        /** The ring's poll came: read a batch through the ring. */
        @Override
        public void readable() {
            if (readInterest && port != null) {
                startRingReads();
            }
        }

        private void startRingReads() {
            ringReadHandle = (RecvByteBufAllocator.ExtendedHandle) recvBufAllocHandle();
            ringReadHandle.reset(config());
            port.read(Math.min(config.getReadBudget(), TunRing.MAX_READ_BATCH));
        }

        @Override
        public void packetRead(ByteBuffer packet) {
            ByteBuf buffer = ringReadHandle.allocate(config().getAllocator());
            int read = Math.min(packet.remaining(), buffer.writableBytes());
            int writerIndex = buffer.writerIndex();
            if (buffer.hasArray()) {
                // Straight into the array: ByteBuf.writeBytes(ByteBuffer) makes a view of it per call.
                packet.get(buffer.array(), buffer.arrayOffset() + writerIndex, read);
                buffer.writerIndex(writerIndex + read);
            } else {
                buffer.writeBytes(packet.limit(packet.position() + read));
            }
            fireRead(ringReadHandle, buffer, read);
        }

        @Override
        public void readsComplete(boolean drained, ErrnoException failure) {
            if (readBatchDone(ringReadHandle, failure) && port != null) {
                if (drained) {
                    port.pollReadable(true); // the queue was empty: wait for the next packet
                } else {
                    startRingReads(); // every read had a packet: more may be waiting
                }
            }
        }

        @Override
        public void written(int bytes) {
            ChannelOutboundBuffer in = completedWrite();
            if (in != null) {
                counters.packetWritten(bytes);
                in.remove();
                resumeRingWrites();
            }
        }

        @Override
        public void writeFailed(ErrnoException cause) {
            ChannelOutboundBuffer in = completedWrite();
            if (in != null && TunChannel.this.writeFailed(in, cause)) {
                resumeRingWrites();
            }
        }

        /** The outbound buffer with the oldest write in flight at its head; null if closed. */
        private ChannelOutboundBuffer completedWrite() {
            ChannelOutboundBuffer in = outboundBuffer();
            Object packet = ringWriter.completeOldest();
            if (in == null || packet == null) {
                return null;
            }
            while (in.current() != null && in.current() != packet) {
                in.remove(); // entries whose promise was cancelled before the flush: never queued
            }
            return in.current() == null ? null : in;
        }

        private void resumeRingWrites() {
            if (ringWriter.waiting) {
                ringWriter.waiting = false;
                flushNow();
            }
        }

        @Override
        public void closeRequested() {
            close(voidPromise());
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            if (readiness.isWritable(event) && writeInterest) {
                writeInterest = false;
                submitInterest();
                super.flush0();
            }
            if (readiness.isReadable(event) && readInterest) {
                readReady();
            }
        }

        void flushNow() {
            super.flush0();
        }

        /** While waiting for writability a flush would only meet EAGAIN again. */
        @Override
        protected void flush0() {
            if (!writeInterest) {
                super.flush0();
            }
        }

        @Override
        public void connect(SocketAddress remote, SocketAddress local, ChannelPromise promise) {
            safeSetFailure(promise, new UnsupportedOperationException("a TunChannel does not connect; bind it"));
        }

        @Override
        public void close() {
            close(voidPromise());
        }

        private void readReady() {
            ChannelConfig config = config();
            ByteBufAllocator allocator = config.getAllocator();
            RecvByteBufAllocator.ExtendedHandle handle = (RecvByteBufAllocator.ExtendedHandle) recvBufAllocHandle();
            handle.reset(config);
            int maxPacketSize = TunChannel.this.config.getMaxPacketSize();
            Throwable failure = null;
            try {
                do {
                    ByteBuf packet = handle.allocate(allocator);
                    int limit = Math.min(maxPacketSize, packet.writableBytes());
                    handle.attemptedBytesRead(limit);
                    int read;
                    try {
                        read = io.read(fd, packet, limit);
                    } catch (Throwable t) {
                        packet.release();
                        if (t instanceof ErrnoException
                                && (((ErrnoException) t).isWouldBlock() || ((ErrnoException) t).isInterrupted())) {
                            handle.lastBytesRead(0);
                            break;
                        }
                        throw t;
                    }
                    fireRead(handle, packet, read);
                } while (isActive() && handle.continueReading(UncheckedBooleanSupplier.TRUE_SUPPLIER));
            } catch (Throwable t) {
                failure = t;
            }
            readBatchDone(handle, failure);
        }

        /** One packet read: the allocator's handle and the counters learn of it, the pipeline gets it. */
        private void fireRead(RecvByteBufAllocator.ExtendedHandle handle, ByteBuf packet, int read) {
            handle.lastBytesRead(read);
            handle.incMessagesRead(1);
            counters.packetRead(read);
            readPending = false;
            pipeline().fireChannelRead(packet);
        }

        /**
         * A batch of reads is over, epoll's or the ring's: one {@code channelReadComplete}, then a
         * failure closes the channel, and with auto-read off the reading stops until
         * {@code read()}. Returns whether the channel goes on reading.
         */
        private boolean readBatchDone(RecvByteBufAllocator.ExtendedHandle handle, Throwable failure) {
            if (failure != null) {
                counters.readFailed(failure instanceof ErrnoException ? ((ErrnoException) failure).errno() : 0);
            }
            handle.readComplete();
            pipeline().fireChannelReadComplete();
            if (failure != null) {
                pipeline().fireExceptionCaught(failure);
                close(voidPromise());
                return false;
            }
            if (!readPending && !config().isAutoRead()) {
                clearReadInterest();
                return false;
            }
            return readInterest;
        }
    }
}
