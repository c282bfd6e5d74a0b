package org.tuntap.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.PreferHeapByteBufAllocator;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.codec.vnet.GsoOffload;
import org.tuntap.testkit.MemoryIoSystem;
import org.tuntap.testkit.TunnelHarness;
import org.tuntap.testkit.UdpReceiver;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelConfig;
import org.tuntap.transport.TunChannelCounters;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.TunOffload;
import org.tuntap.transport.linux.LinuxInterfaces;
import org.tuntap.transport.linux.LinuxTun;
import org.tuntap.transport.spi.Errno;
import org.tuntap.transport.spi.ErrnoException;
import org.tuntap.transport.spi.TunIoctl;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.EnumSet;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A UDP echo over a TUN/TAP device: {@link UdpEchoHandler} (ordinary Netty UDP code) on a
 * {@link TunChannel}, with the codecs in between ({@link EchoPipeline}).
 *
 * <p>By default it runs over the in-memory tunnel: a client sends a few datagrams into the
 * tunnel as the kernel would, the echo answers, the exchange is printed. With {@code native} it
 * runs on a real device until stopped. See {@link EchoOptions#USAGE}.
 *
 * <p>As an operator meets it: a bad option or a device that cannot be set up is one line on
 * stderr and a non-zero exit ({@link #EXIT_USAGE}, {@link #EXIT_FAILED}), never a stack trace;
 * {@code --seconds}, SIGTERM and Ctrl-C stop it with the totals printed and status 0 (the JVM
 * reports 143 for SIGTERM); a device that fails under it (deleted) exits with
 * {@link #EXIT_FAILED}, so a supervisor restarts it.
 */
public final class UdpEchoApp {
    static final int ECHO_PORT = 7;
    static final int EXIT_OK = 0;
    /** The device failed, could not be set up, or (in memory) a datagram was not echoed. */
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;
    /** The in-memory demo's hosts on the kernel's side: where the IPv4 datagrams come from, and the IPv6 ones. */
    private static final InetAddress IPV4_CLIENT = MemoryIoSystem.SEND_UDP_SOURCE.getAddress();
    private static final InetAddress IPV6_CLIENT = literal("2001:db8::1");
    private static final int PING_IDENTIFIER = 0x5eed;
    /** 56 bytes, as {@code ping} sends by default. */
    private static final byte[] PING_DATA = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRST".getBytes(StandardCharsets.US_ASCII);

    private UdpEchoApp() {
    }

    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        System.exit(status);
    }

    /** The whole application, minus {@code System.exit}: returns the exit status. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        setNettyMachineId();
        EchoOptions options;
        try {
            options = EchoOptions.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("udp-echo: " + e.getMessage() + " (--help lists the options)");
            return EXIT_USAGE;
        }
        if (options.help) {
            out.println(EchoOptions.USAGE);
            return EXIT_OK;
        }
        try {
            return options.nativeMode ? runNative(options, out, err) : runInMemory(options, out, err);
        } catch (IOException e) {
            err.println("udp-echo: " + e.getMessage());
            return EXIT_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("udp-echo: interrupted");
            return EXIT_FAILED;
        }
    }

    /**
     * Netty names every channel with a machine id taken from a network interface's MAC address;
     * where it finds none (a network namespace with only {@code lo}, the usual home of this
     * example) it warns on every start and uses random bytes. Random bytes, given up front
     * through the property Netty documents, say the same without the warning.
     */
    static void setNettyMachineId() {
        if (System.getProperty("io.netty.machineId") == null) {
            byte[] id = new byte[6];
            ThreadLocalRandom.current().nextBytes(id);
            id[0] = (byte) ((id[0] & 0xfc) | 0x02); // a locally administered unicast MAC
            StringBuilder text = new StringBuilder();
            for (byte b : id) {
                text.append(text.length() == 0 ? "" : ":").append(String.format("%02x", b & 0xff));
            }
            System.setProperty("io.netty.machineId", text.toString());
        }
    }

    /** The addresses the echo owns on TAP (ARP, neighbour discovery, pings): its IPv4 and IPv6 echo addresses. */
    private static List<InetAddress> echoAddresses(EchoOptions options) {
        return List.of(options.echoAddress, options.echoAddress6);
    }

    /** The echo over the in-memory tunnel; returns the exit status (0: every datagram and ping came back). */
    static int runInMemory(EchoOptions options, PrintStream out, PrintStream err) throws IOException {
        UdpEchoHandler echo = new UdpEchoHandler();
        InetSocketAddress echoAt = new InetSocketAddress(options.echoAddress, ECHO_PORT);
        // IPv6 in both modes; on TAP the pipeline's ArpHandler answers neighbour discovery for it.
        boolean ipv6 = options.echoAddress6 != null;
        InetSocketAddress echoAt6 = new InetSocketAddress(options.echoAddress6, ECHO_PORT);
        try (OutputStream pcap = openPcap(options)) {
            EchoPipeline pipeline = new EchoPipeline(echo, MacAddress.randomLocal(), echoAddresses(options), pcap,
                    new RateLimitedErrorLog(err));
            TunnelHarness harness = TunnelHarness.builder()
                    .mode(options.mode).packetInfo(options.packetInfo)
                    .handlers(pipeline)
                    .build();
            TunChannel channel = harness.channel();
            MemoryIoSystem system = harness.ioSystem();
            out.printf("in-memory %s%s: UDP echo at %s%s%n", channel.localAddress(),
                    options.packetInfo ? " with packet information" : "", format(echoAt),
                    ipv6 ? " and " + format(echoAt6) : "");

            String[] messages = {"hello, tunnel", "a second datagram", "bye"};
            int sent = 0;
            int answered = 0;
            for (String message : messages) {
                byte[] payload = message.getBytes(StandardCharsets.UTF_8);
                InetSocketAddress client = system.sendUdp(payload, echoAt); // into the tunnel, as the kernel would
                out.printf("client %s -> %s  \"%s\"%n", format(client), format(echoAt), message);
                sent++;
                harness.runPendingTasks();
                UdpReceiver receiver = system.receiveUdp(channel.fd(), client.getAddress(), client.getPort());
                if (receiver.available() == 0) {
                    out.printf("no answer to \"%s\"%n", message);
                    continue;
                }
                UdpReceiver.Datagram reply = receiver.recvFrom(65_535);
                String text = new String(reply.payload(), StandardCharsets.UTF_8);
                out.printf("echo   %s -> %s  \"%s\"%n", format(reply.sender()), format(client), text);
                if (text.equals(message) && reply.sender().equals(echoAt)) {
                    answered++;
                }
            }
            InMemoryPeer peer = new InMemoryPeer(harness, options.packetInfo, options.mode == TunMode.TAP);
            if (ipv6) {
                String message = "hello over IPv6";
                InetSocketAddress client = new InetSocketAddress(IPV6_CLIENT, MemoryIoSystem.SEND_UDP_SOURCE.getPort());
                out.printf("client %s -> %s  \"%s\"%n", format(client), format(echoAt6), message);
                sent++;
                InMemoryPeer.Answer reply = peer.udp6(client, echoAt6, message.getBytes(StandardCharsets.UTF_8));
                if (reply == null) {
                    out.printf("no answer to \"%s\"%n", message);
                } else {
                    String text = new String(reply.payload(), StandardCharsets.UTF_8);
                    InetSocketAddress from = new InetSocketAddress(reply.from(), reply.port());
                    out.printf("echo   %s -> %s  \"%s\"%n", format(from), format(client), text);
                    if (text.equals(message) && from.equals(echoAt6)) {
                        answered++;
                    }
                }
            }
            int pinged = 0;
            int pongs = 0;
            for (InetAddress[] ends : ipv6
                    ? new InetAddress[][] {{IPV4_CLIENT, options.echoAddress}, {IPV6_CLIENT, options.echoAddress6}}
                    : new InetAddress[][] {{IPV4_CLIENT, options.echoAddress}}) {
                pinged++;
                out.printf("ping   %s -> %s  icmp_seq=%d, %d bytes%n", host(ends[0]), host(ends[1]),
                        pinged, PING_DATA.length);
                InMemoryPeer.Answer reply = peer.ping(ends[0], ends[1], PING_IDENTIFIER, pinged, PING_DATA);
                if (reply == null) {
                    out.printf("no reply to icmp_seq=%d%n", pinged);
                    continue;
                }
                out.printf("reply  %s -> %s  icmp_seq=%d, %d bytes%n", host(reply.from()), host(ends[0]),
                        pinged, reply.payload().length);
                if (Arrays.equals(reply.payload(), PING_DATA) && reply.from().equals(ends[1])) {
                    pongs++;
                }
            }
            out.printf("%d of %d datagrams echoed, %d of %d pings answered; %s%n", answered, sent, pongs, pinged,
                    pipeline.describeDrops());
            harness.finish();
            return answered == sent && pongs == pinged ? EXIT_OK : EXIT_FAILED;
        }
    }

    /**
     * The echo on a real device, until {@code --seconds}, a signal, or the device fails; returns
     * the exit status. The totals are printed however it stops.
     *
     * @throws IOException when the device cannot be set up (a one-line message)
     */
    static int runNative(EchoOptions options, PrintStream out, PrintStream err)
            throws IOException, InterruptedException {
        if (!LinuxTun.isAvailable()) {
            throw new IOException("the native TUN layer is unavailable: " + LinuxTun.unavailabilityCause().getMessage());
        }
        StopSignal stop = new StopSignal();
        Thread hook = stop.shutdownHook();
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return serveNative(options, out, err, stop);
        } finally {
            out.flush();
            err.flush();
            stop.finished();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running: it returns now that the echo has finished.
            }
        }
    }

    private static int serveNative(EchoOptions options, PrintStream out, PrintStream err, StopSignal stop)
            throws IOException, InterruptedException {
        String name = options.name != null ? options.name : options.mode.defaultNameTemplate();
        if (!options.configureAddress) {
            requireExistingDevice(name, options.mode);
        }
        try (OutputStream pcap = openPcap(options)) { // before the device: a bad path changes nothing
            UdpEchoHandler echo = new UdpEchoHandler();
            PacketSwapEcho swap = new PacketSwapEcho();
            RateLimitedErrorLog errors = new RateLimitedErrorLog(err);
            EchoPipeline pipeline = new EchoPipeline(echo, MacAddress.randomLocal(), echoAddresses(options),
                    pcap, errors);
            LongSupplier echoed = options.raw ? swap::echoed : echo::echoed;
            Supplier<String> counters = () -> (options.raw ? "not IPv4/UDP " + swap.ignored() : pipeline.describeDrops())
                    + "; errors " + errors.errors();
            // One event loop thread: the same kind of loop Netty's epoll sockets run on.
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                    options.ioUring ? IoUringIoHandler.newFactory() : EpollIoHandler.newFactory());
            try {
                TunChannel channel = (TunChannel) new Bootstrap().group(group)
                        .channelFactory(TunChannel.factory(LinuxTun.ioSystem()))
                        .option(TunChannelOption.MODE, options.mode)
                        .option(TunChannelOption.PACKET_INFO, options.packetInfo)
                        // Room for an MTU-sized packet and its headers, not the 64 KiB default
                        // (with offloads the kernel may hand over a super-packet of up to 64 KiB).
                        .option(TunChannelOption.MAX_PACKET_SIZE, options.offload ? TunChannelConfig.DEFAULT_MAX_PACKET_SIZE
                                : options.mtu + TunIoctl.PI_HEADER_LENGTH + 18)
                        .option(TunChannelOption.VNET_HDR, options.offload)
                        .option(TunChannelOption.OFFLOADS, options.offload ? EnumSet.allOf(TunOffload.class) : Set.of())
                        // Packets in heap buffers: the codecs read and write header fields one at
                        // a time, which costs least on an array (Netty on Java 25 reaches direct
                        // memory through a ByteBuffer view, checked per access), and the native
                        // layer reads and writes heap arrays in place, with no copy.
                        .option(ChannelOption.ALLOCATOR, new PreferHeapByteBufAllocator(ByteBufAllocator.DEFAULT))
                        .handler(options.raw ? rawPipeline(swap, errors) : pipeline)
                        .bind(new TunAddress(name)).sync().channel();
                String device = channel.localAddress().name();
                pipeline.useOffloads(GsoOffload.fromNames(channel.config().getAppliedOffloads()));
                configure(options, device, out);
                out.printf("echoing UDP sent through %s (%s)%s%s; Ctrl-C stops%n", device,
                        options.mode == TunMode.TAP ? "answering ARP for " + options.echoAddress.getHostAddress()
                                + " and neighbour discovery for " + host(options.echoAddress6)
                                : "any address routed to it",
                        options.pcap != null ? "; capturing to " + options.pcap : "",
                        options.raw ? "; raw: packets swapped in place, no codecs"
                                : options.offload ? "; offloads " + channel.config().getAppliedOffloads() : "");

                channel.closeFuture().addListener(f -> stop.request(StopSignal.Reason.DEVICE_CLOSED));
                long[] last = {0};
                ScheduledFuture<?> perSecond = group.scheduleAtFixedRate(() -> {
                    long now = echoed.getAsLong();
                    if (now != last[0]) {
                        out.printf("echoed %d datagrams (+%d); %s; %s%n", now, now - last[0], counters.get(),
                                transport(channel.counters()));
                        last[0] = now;
                    }
                }, 1, 1, TimeUnit.SECONDS);

                StopSignal.Reason reason = stop.await(options.seconds);
                perSecond.cancel(false);
                channel.close().syncUninterruptibly(); // the loop is still running: only we shut it down
                out.printf("stopped (%s): echoed %d datagrams; %s; %s%n", describe(reason), echoed.getAsLong(),
                        counters.get(), transport(channel.counters()));
                if (reason == StopSignal.Reason.DEVICE_CLOSED) {
                    Throwable cause = errors.latest();
                    err.println("udp-echo: device " + device + " failed"
                            + (cause == null ? "" : ": " + cause.getMessage()));
                    return EXIT_FAILED;
                }
                return EXIT_OK;
            } finally {
                group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            }
        }
    }

    /** The transport's counters, for the per-second line. */
    static String transport(TunChannelCounters counters) {
        return String.format("device: read %d packets/%d B, wrote %d packets/%d B, pushbacks %d, write drops %d,"
                        + " read errors %s, write errors %s", counters.packetsRead(), counters.bytesRead(),
                counters.packetsWritten(), counters.bytesWritten(), counters.writePushbacks(), counters.writesDropped(),
                counters.readErrorsByErrno(), counters.writeErrorsByErrno());
    }

    /** Address, MTU and up, unless {@code --address none}. */
    private static void configure(EchoOptions options, String device, PrintStream out) throws IOException {
        if (!options.configureAddress) {
            out.printf("%s (%s): attached; address and MTU left as they are%n", device, options.mode);
            return;
        }
        LinuxInterfaces interfaces = LinuxTun.interfaces();
        try {
            interfaces.setMtu(device, options.mtu);
            interfaces.setIpv4Address(device, options.address, options.prefixLength);
            interfaces.setUp(device, true);
        } catch (ErrnoException e) {
            throw new IOException("cannot configure " + device + ": " + e.getMessage(), e);
        }
        if (options.address6 != null) {
            try {
                interfaces.addIpv6Address(device, options.address6, options.prefixLength6);
            } catch (ErrnoException e) {
                throw new IOException("cannot add " + host(options.address6) + "/" + options.prefixLength6
                        + " to " + device + ": " + e.getMessage() + " (--address6 none leaves IPv6 out)", e);
            }
        }
        out.printf("%s (%s): address %s/%d%s, MTU %d, up%n", device, options.mode,
                options.address.getHostAddress(), options.prefixLength,
                options.address6 == null ? "" : ", " + host(options.address6) + "/" + options.prefixLength6,
                options.mtu);
    }

    /** {@code --address none} attaches; binding a name that does not exist would create a device. */
    private static void requireExistingDevice(String name, TunMode mode) throws IOException {
        try {
            LinuxTun.interfaces().index(name);
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENODEV) {
                throw new IOException("no device named " + name + ": --address none attaches to an existing"
                        + " device (create one first: ip tuntap add dev " + name + " mode "
                        + mode.name().toLowerCase(java.util.Locale.ROOT) + ")", e);
            }
            throw new IOException("cannot look up device " + name + ": " + e.getMessage(), e);
        }
    }

    /** The raw echo, and the same error log at the end as the codec pipeline's. */
    private static ChannelHandler rawPipeline(PacketSwapEcho swap, RateLimitedErrorLog errors) {
        return new ChannelInitializer<TunChannel>() {
            @Override
            protected void initChannel(TunChannel channel) {
                channel.pipeline().addLast("swap", swap).addLast("errors", errors);
            }
        };
    }

    private static String describe(StopSignal.Reason reason) {
        switch (reason) {
            case TIME_UP: return "time up";
            case SIGNAL: return "signal";
            default: return "device closed";
        }
    }

    private static OutputStream openPcap(EchoOptions options) throws IOException {
        if (options.pcap == null) {
            return null;
        }
        try {
            return new FileOutputStream(options.pcap);
        } catch (IOException e) {
            // FileOutputStream says "PATH (reason)".
            throw new IOException("cannot write the --pcap file: " + e.getMessage(), e);
        }
    }

    /** "192.0.2.1:7", "[2001:db8::2]:7". */
    private static String format(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        return (ip instanceof Inet6Address ? "[" + host(ip) + "]" : host(ip)) + ":" + address.getPort();
    }

    /** The address as people write it: 2001:db8::1, not 2001:db8:0:0:0:0:0:1 (RFC 5952). */
    private static String host(InetAddress address) {
        return NetUtil.toAddressString(address);
    }

    private static InetAddress literal(String address) {
        try {
            return InetAddress.getByName(address); // a literal: no lookup
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
