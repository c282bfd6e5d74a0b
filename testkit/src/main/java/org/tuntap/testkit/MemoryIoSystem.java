package org.tuntap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import org.tuntap.codec.udp.UdpPackets;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.OpenFlags;
import org.tuntap.transport.spi.TunIoSystem;
import org.tuntap.transport.spi.TunIoctl;
import org.tuntap.transport.spi.TunReadiness;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-memory stand-in for the OS calls a TUN port makes ({@code open}, {@code ioctl},
 * {@code read}, {@code write}, {@code close}): a port of Twisted's
 * {@code twisted.pair.testing.MemoryIOSystem}, with the kernel's behaviour where Twisted differs.
 * A {@code TunChannel} given one of these runs with no device, privilege or network namespace;
 * the test plays the network through the {@link Tunnel} behind the channel's fd.
 *
 * <ul>
 * <li>{@code new MemoryIoSystem()} has the tunnel device at {@link TunIoctl#DEVICE_PATH};
 *     {@link #withoutDevices()} has none (Twisted's starting point).</li>
 * <li>File descriptors count up from {@link #FIRST_FD}, per system, and are never reused.</li>
 * <li>{@link #permissions()} starts as {@code {"open", "ioctl"}}; removing a name makes that call
 *     fail with EPERM before anything else, as for an unprivileged process.</li>
 * <li>{@code open} of an unregistered path fails with ENOSYS; an fd that is not open gives EBADF.</li>
 * <li>{@code ioctl} checks permission (EPERM), then the fd (EBADF), then that the request is
 *     {@code TUNSETIFF}, {@code TUNGETIFF}, {@code TUNGETFEATURES}, {@code TUNSETVNETHDRSZ} or
 *     (value overload) {@code TUNSETOFFLOAD} (else EBADFD on a tunnel before its TUNSETIFF and
 *     EINVAL after, as the kernel answers); {@link Tunnel#ioctl} does the rest.</li>
 * <li>{@code addFlags} (fcntl) records {@code O_NONBLOCK}/{@code O_CLOEXEC} on the file, for a
 *     channel adopting a tunnel the test opened.</li>
 * </ul>
 *
 * <p>Thread-safe: the fd table sits behind one lock, and each file guards its own state.
 */
public final class MemoryIoSystem implements TunIoSystem {

    /** The first file descriptor handed out, as in Twisted. */
    public static final int FIRST_FD = 8192;
    /** The permission {@link #open} needs. */
    public static final String OPEN_PERMISSION = "open";
    /** The permission {@link #ioctl} needs. */
    public static final String IOCTL_PERMISSION = "ioctl";
    /**
     * Where {@link #sendUdp(byte[], InetSocketAddress)} datagrams come from: a documentation
     * address (RFC 5737) and Twisted's source port 21345.
     */
    public static final InetSocketAddress SEND_UDP_SOURCE = new InetSocketAddress(documentationAddress(), 21345);

    /** Every {@code TUN_F_*} bit {@link TunIoctl} names: what Linux 6.2+ knows. */
    public static final int ALL_OFFLOAD_FLAGS = TunIoctl.TUN_F_CSUM | TunIoctl.TUN_F_TSO4 | TunIoctl.TUN_F_TSO6
            | TunIoctl.TUN_F_TSO_ECN | TunIoctl.TUN_F_USO4 | TunIoctl.TUN_F_USO6;

    private final Set<String> permissions = ConcurrentHashMap.newKeySet();
    private volatile int supportedOffloadFlags = ALL_OFFLOAD_FLAGS;
    private final TunReadiness readiness;
    private final Object lock = new Object();

    // Guarded by lock.
    private final Map<String, MemoryDevice> devices = new HashMap<>();
    private final Map<Integer, MemoryFile> openFiles = new LinkedHashMap<>();
    /** The last fd {@link #file} looked up, and its file: every read and write looks one up, and boxing the fd cost an Integer each. */
    private int lastFd = -1;
    private MemoryFile lastFile;
    private int nextFd = FIRST_FD;

    /** A system with the tunnel device registered at {@link TunIoctl#DEVICE_PATH}. */
    public MemoryIoSystem() {
        this(true);
    }

    private MemoryIoSystem(boolean withTunnelDevice) {
        permissions.add(OPEN_PERMISSION);
        permissions.add(IOCTL_PERMISSION);
        if (withTunnelDevice) {
            devices.put(TunIoctl.DEVICE_PATH, Tunnel::new);
        }
        readiness = new MemoryReadiness(this::pollable);
    }

    /** A system with no special devices: {@link #registerSpecialDevice} them yourself. */
    public static MemoryIoSystem withoutDevices() {
        return new MemoryIoSystem(false);
    }

    /**
     * The calls this process may make; a live, mutable, thread-safe set, initially
     * {@link #OPEN_PERMISSION} and {@link #IOCTL_PERMISSION}.
     */
    public Set<String> permissions() {
        return permissions;
    }

    /** Makes {@code open(path, ...)} open a file made by {@code device}, replacing any earlier one. */
    public void registerSpecialDevice(String path, MemoryDevice device) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(device, "device");
        synchronized (lock) {
            devices.put(path, device);
        }
    }

    /**
     * Opens a special device.
     *
     * @throws ErrnoException EPERM without the {@code "open"} permission; ENOSYS for a path with
     *     no registered device
     */
    @Override
    public int open(String path, int flags) throws ErrnoException {
        checkPermission(OPEN_PERMISSION, "open");
        MemoryDevice device;
        synchronized (lock) {
            device = devices.get(path);
        }
        if (device == null) {
            throw new ErrnoException("open", Errno.ENOSYS, "no in-memory device at " + path);
        }
        MemoryFile file = device.open(this, flags);
        synchronized (lock) {
            int fd = nextFd++;
            openFiles.put(fd, file);
            return fd;
        }
    }

    @Override
    public void ioctl(int fd, long request, byte[] argument) throws ErrnoException {
        String operation = "ioctl(" + TunIoctl.requestName(request) + ")";
        checkPermission(IOCTL_PERMISSION, operation);
        MemoryFile file = file(fd, operation);
        if (request != TunIoctl.TUNSETIFF && request != TunIoctl.TUNGETIFF && request != TunIoctl.TUNGETFEATURES
                && request != TunIoctl.TUNSETVNETHDRSZ) {
            throw unsupportedRequest(file, operation,
                    "only TUNSETIFF, TUNGETIFF, TUNGETFEATURES and TUNSETVNETHDRSZ are supported in memory");
        }
        file.ioctl(request, argument);
    }

    /** {@code fcntl}: records {@link OpenFlags#O_NONBLOCK}/{@link OpenFlags#O_CLOEXEC} on the file (EBADF if not open). */
    @Override
    public void addFlags(int fd, int flags) throws ErrnoException {
        file(fd, "fcntl").addFlags(flags);
    }

    /**
     * Checks permission and fd like the pointer overload; {@code TUNSETOFFLOAD} goes to the file
     * ({@link Tunnel#ioctl(long, long)}), every other value ioctl fails as the pointer overload does.
     */
    @Override
    public int ioctl(int fd, long request, long value) throws ErrnoException {
        String operation = "ioctl(" + TunIoctl.requestName(request) + ")";
        checkPermission(IOCTL_PERMISSION, operation);
        MemoryFile file = file(fd, operation);
        if (request == TunIoctl.TUNSETOFFLOAD) {
            return file.ioctl(request, value);
        }
        if (request == TunIoctl.TUNSETIFF) {
            throw new ErrnoException(operation, Errno.EINVAL, "TUNSETIFF takes an ifreq, not a value");
        }
        throw unsupportedRequest(file, operation, "only TUNSETOFFLOAD is supported in memory among value ioctls");
    }

    /** EBADFD on a tunnel not yet attached (the kernel's answer to any request then), else EINVAL. */
    private static ErrnoException unsupportedRequest(MemoryFile file, String operation, String detail)
            throws ErrnoException {
        if (file instanceof Tunnel) {
            return ((Tunnel) file).unsupportedRequest(operation);
        }
        return new ErrnoException(operation, Errno.EINVAL, detail);
    }

    /**
     * The {@code TUN_F_*} offload bits this "kernel" knows; {@code TUNSETOFFLOAD} with any other
     * bit fails with EINVAL. Default: every bit {@link TunIoctl} names (a Linux 6.2+ kernel).
     */
    public int supportedOffloadFlags() {
        return supportedOffloadFlags;
    }

    /**
     * Makes this "kernel" know only {@code flags} among the {@code TUN_F_*} bits, for tests of
     * the fallback: {@code ALL_OFFLOAD_FLAGS & ~(TUN_F_USO4 | TUN_F_USO6)} is a kernel before 6.2.
     */
    public void setSupportedOffloadFlags(int flags) {
        supportedOffloadFlags = flags;
    }

    @Override
    public int read(int fd, ByteBuf destination, int limit) throws ErrnoException {
        return file(fd, "read").read(destination, limit);
    }

    /** Twisted's {@code read(fd, limit)}: one packet, at most {@code limit} bytes, as an array. */
    public byte[] read(int fd, int limit) throws ErrnoException {
        MemoryFile file = file(fd, "read");
        if (file instanceof Tunnel) {
            return ((Tunnel) file).read(limit);
        }
        ByteBuf destination = Unpooled.buffer(Math.max(0, limit));
        try {
            file.read(destination, limit);
            byte[] bytes = new byte[destination.readableBytes()];
            destination.readBytes(bytes);
            return bytes;
        } finally {
            destination.release();
        }
    }

    @Override
    public int write(int fd, ByteBuf source) throws ErrnoException {
        return file(fd, "write").write(source);
    }

    /** Twisted's {@code write(fd, data)}: {@code packet} as one packet. */
    public int write(int fd, byte[] packet) throws ErrnoException {
        ByteBuf source = Unpooled.wrappedBuffer(packet);
        try {
            return write(fd, source);
        } finally {
            source.release();
        }
    }

    /** Closes the fd (it is never handed out again) and the file behind it, waking its listener. */
    @Override
    public void close(int fd) throws ErrnoException {
        MemoryFile file;
        synchronized (lock) {
            file = openFiles.remove(fd);
            if (fd == lastFd) {
                lastFd = -1;
                lastFile = null;
            }
        }
        if (file == null) {
            throw badFd(fd, "close");
        }
        file.close(); // outside the lock: it runs the readiness listener
    }

    /** The in-memory readiness for this system's fds ({@link MemoryReadiness} over {@link #pollable}). */
    @Override
    public TunReadiness readiness() {
        return readiness;
    }

    /**
     * The open file behind {@code fd}, for {@link MemoryReadiness}.
     *
     * @throws IllegalArgumentException if {@code fd} is not open on this system
     */
    public Pollable pollable(int fd) {
        MemoryFile file;
        synchronized (lock) {
            file = openFiles.get(fd);
        }
        if (file == null) {
            throw new IllegalArgumentException("fd " + fd + " is not open on this MemoryIoSystem");
        }
        return file;
    }

    /** Whether {@code fd} is open on this system. */
    public boolean isOpen(int fd) {
        synchronized (lock) {
            return openFiles.containsKey(fd);
        }
    }

    /**
     * The tunnel open at {@code fd}.
     *
     * @throws IllegalArgumentException if {@code fd} is not open or is not a tunnel
     */
    public Tunnel tunnel(int fd) {
        MemoryFile file;
        synchronized (lock) {
            file = openFiles.get(fd);
        }
        if (!(file instanceof Tunnel)) {
            throw new IllegalArgumentException(file == null
                    ? "fd " + fd + " is not open on this MemoryIoSystem"
                    : "fd " + fd + " is not a tunnel but " + file);
        }
        return (Tunnel) file;
    }

    /** Twisted's {@code getTunnel}: the same as {@link #tunnel(int)}, for the fd of a channel. */
    public Tunnel getTunnel(int fd) {
        return tunnel(fd);
    }

    /**
     * Twisted's {@code getTunnel(port)}: the tunnel behind a bound {@link TunChannel} of this
     * system.
     *
     * @throws IllegalArgumentException if {@code channel} is not a {@link TunChannel} on this
     *     system, or is not bound (or already closed)
     */
    public Tunnel getTunnel(Channel channel) {
        if (!(channel instanceof TunChannel)) {
            throw new IllegalArgumentException("not a TunChannel: " + channel);
        }
        TunChannel tunChannel = (TunChannel) channel;
        if (tunChannel.ioSystem() != this) {
            throw new IllegalArgumentException(channel + " runs on another TunIoSystem");
        }
        int fd = tunChannel.fd();
        if (fd < 0) {
            throw new IllegalArgumentException(channel + " has no open device (not bound, or closed)");
        }
        return tunnel(fd);
    }

    /** The open tunnels, in the order they were opened. */
    public List<Tunnel> tunnels() {
        List<Tunnel> tunnels = new ArrayList<>();
        synchronized (lock) {
            for (MemoryFile file : openFiles.values()) {
                if (file instanceof Tunnel) {
                    tunnels.add((Tunnel) file);
                }
            }
        }
        return tunnels;
    }

    /**
     * Twisted's {@code sendUDP}: builds an IPv4+UDP datagram from {@link #SEND_UDP_SOURCE} to
     * {@code destination} around {@code payload} (both checksums computed, by the codec module's
     * {@link UdpPackets}) and {@linkplain Tunnel#addToReadBuffer queues it} on the first open
     * tunnel that has had its TUNSETIFF (so a TAP tunnel gets it in an Ethernet frame). A full
     * read buffer drops it and counts it in {@link Tunnel#readDrops()}, as UDP allows.
     *
     * @return the source address of the datagram
     * @throws IllegalStateException when no tunnel is open and attached
     * @throws IllegalArgumentException when {@code destination} is not a resolved IPv4 address
     *     or the payload does not fit in one IPv4 packet
     */
    public InetSocketAddress sendUdp(byte[] payload, InetSocketAddress destination) {
        return sendUdp(payload, SEND_UDP_SOURCE, destination);
    }

    /** {@link #sendUdp(byte[], InetSocketAddress)} with the readable bytes of {@code payload} (not released). */
    public InetSocketAddress sendUdp(ByteBuf payload, InetSocketAddress destination) {
        return sendUdp(payload, SEND_UDP_SOURCE, destination);
    }

    /** {@link #sendUdp(byte[], InetSocketAddress)} from a source of the caller's choosing. */
    public InetSocketAddress sendUdp(byte[] payload, InetSocketAddress source, InetSocketAddress destination) {
        ByteBuf buffer = Unpooled.wrappedBuffer(payload);
        try {
            return sendUdp(buffer, source, destination);
        } finally {
            buffer.release();
        }
    }

    /** {@link #sendUdp(ByteBuf, InetSocketAddress)} from a source of the caller's choosing. */
    public InetSocketAddress sendUdp(ByteBuf payload, InetSocketAddress source, InetSocketAddress destination) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(destination, "destination");
        Tunnel tunnel = firstAttachedTunnel();
        ByteBuf datagram = UdpPackets.build(UnpooledByteBufAllocator.DEFAULT, source, destination, payload);
        try {
            tunnel.addToReadBuffer(datagram);
        } finally {
            datagram.release();
        }
        return source;
    }

    /**
     * Twisted's {@code receiveUDP}: a socket-like receiver for UDP datagrams the program writes to
     * the tunnel at {@code fd}, addressed to {@code host} and {@code port} (Twisted ignores both;
     * here they select the datagrams, as a bound socket would).
     *
     * @throws IllegalArgumentException if {@code fd} is not an open tunnel, {@code host} is not
     *     IPv4 or {@code port} is out of range
     */
    public UdpReceiver receiveUdp(int fd, InetAddress host, int port) {
        return new UdpReceiver(tunnel(fd), host, port);
    }

    /**
     * Names a tunnel for TUNSETIFF and records it on the tunnel, under this system's lock so two
     * tunnels cannot take one name. A template gets the lowest free unit. An explicit name in use
     * is checked as the kernel's {@code tun_set_iff} checks an existing device: IFF_TUN_EXCL gives
     * EBUSY, the other device type or a different IFF_MULTI_QUEUE gives EINVAL, and without
     * IFF_MULTI_QUEUE the one queue is taken (EBUSY); with it the tunnel becomes another queue.
     */
    String assignInterfaceName(Tunnel tunnel, String requested, String template, int flags) throws ErrnoException {
        String operation = "ioctl(TUNSETIFF)";
        synchronized (lock) {
            Set<String> inUse = new HashSet<>();
            List<Tunnel> queues = new ArrayList<>();
            for (MemoryFile file : openFiles.values()) {
                if (file instanceof Tunnel && file != tunnel) {
                    Tunnel other = (Tunnel) file;
                    String name = other.name();
                    if (name != null) {
                        inUse.add(name);
                        if (name.equals(template)) {
                            queues.add(other);
                        }
                    }
                }
            }
            if (InterfaceNames.isTemplate(template)) {
                String name = InterfaceNames.allocate(template, inUse::contains);
                tunnel.attach(requested, name, flags);
                return name;
            }
            if (!queues.isEmpty()) {
                int deviceMode = queues.get(0).tunnelMode();
                if ((flags & TunIoctl.IFF_TUN_EXCL) != 0) {
                    throw new ErrnoException(operation, Errno.EBUSY, "interface " + template
                            + " exists and IFF_TUN_EXCL was asked for");
                }
                if (Tunnel.isTap(flags) != Tunnel.isTap(deviceMode)) {
                    throw new ErrnoException(operation, Errno.EINVAL, "interface " + template + " is a "
                            + (Tunnel.isTap(deviceMode) ? "TAP" : "TUN") + " device");
                }
                boolean multiQueue = (flags & TunIoctl.IFF_MULTI_QUEUE) != 0;
                if (multiQueue != ((deviceMode & TunIoctl.IFF_MULTI_QUEUE) != 0)) {
                    throw new ErrnoException(operation, Errno.EINVAL, "interface " + template
                            + (multiQueue ? " is not" : " is") + " multi-queue");
                }
                if (!multiQueue) {
                    throw new ErrnoException(operation, Errno.EBUSY,
                            "interface " + template + " is in use by another open tunnel");
                }
            }
            tunnel.attach(requested, template, flags);
            for (Tunnel queue : queues) {
                queue.adoptDeviceFeatures(flags);
            }
            return template;
        }
    }

    private Tunnel firstAttachedTunnel() {
        for (Tunnel tunnel : tunnels()) {
            if (tunnel.isAttached()) {
                return tunnel;
            }
        }
        throw new IllegalStateException("sendUdp needs an open tunnel that has had its TUNSETIFF");
    }

    private void checkPermission(String permission, String operation) throws ErrnoException {
        if (!permissions.contains(permission)) {
            throw new ErrnoException(operation, Errno.EPERM, "'" + permission + "' not in the permissions");
        }
    }

    private MemoryFile file(int fd, String operation) throws ErrnoException {
        MemoryFile file;
        synchronized (lock) {
            if (fd == lastFd) {
                file = lastFile;
            } else {
                file = openFiles.get(fd);
                if (file != null) {
                    lastFd = fd;
                    lastFile = file;
                }
            }
        }
        if (file == null) {
            throw badFd(fd, operation);
        }
        return file;
    }

    /** 192.0.2.1, from TEST-NET-1 (RFC 5737). */
    private static InetAddress documentationAddress() {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, 1});
        } catch (UnknownHostException e) {
            throw new AssertionError("four bytes are always an address", e);
        }
    }

    private static ErrnoException badFd(int fd, String operation) {
        return new ErrnoException(operation, Errno.EBADF, "fd " + fd + " is not open");
    }
}
