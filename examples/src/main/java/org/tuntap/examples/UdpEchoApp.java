package org.tuntap.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.testkit.MemoryIoSystem;
import org.tuntap.testkit.TunnelHarness;
import org.tuntap.testkit.UdpReceiver;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelCounters;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.linux.LinuxInterfaces;
import org.tuntap.transport.linux.LinuxTun;
import org.tuntap.transport.spi.TunIoctl;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A UDP echo over a TUN/TAP device: {@link UdpEchoHandler} (ordinary Netty UDP code) on a
 * {@link TunChannel}, with the codecs in between ({@link EchoPipeline}).
 *
 * <p>By default it runs over the in-memory tunnel: a client sends a few datagrams into the
 * tunnel as the kernel would, the echo answers, the exchange is printed. With {@code native} it
 * runs on a real device until Ctrl-C. See {@link EchoOptions#USAGE}.
 */
public final class UdpEchoApp {
    static final int ECHO_PORT = 7;

    private UdpEchoApp() {
    }

    public static void main(String[] args) throws Exception {
        EchoOptions options;
        try {
            options = EchoOptions.parse(args);
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().isEmpty()) {
                System.err.println(e.getMessage());
            }
            System.err.println(EchoOptions.USAGE);
            System.exit(2);
            return;
        }
        int status = options.nativeMode ? runNative(options, System.out) : runInMemory(options, System.out);
        System.exit(status);
    }

    /** The echo over the in-memory tunnel; returns the exit status (0: every datagram came back). */
    static int runInMemory(EchoOptions options, PrintStream out) throws IOException {
        UdpEchoHandler echo = new UdpEchoHandler();
        InetSocketAddress echoAt = new InetSocketAddress(options.echoAddress, ECHO_PORT);
        try (OutputStream pcap = openPcap(options)) {
            EchoPipeline pipeline = new EchoPipeline(echo, MacAddress.randomLocal(), List.of(options.echoAddress), pcap);
            TunnelHarness harness = TunnelHarness.builder()
                    .mode(options.mode).packetInfo(options.packetInfo)
                    .handlers(pipeline)
                    .build();
            TunChannel channel = harness.channel();
            MemoryIoSystem system = harness.ioSystem();
            out.printf("in-memory %s (%s%s): UDP echo at %s%n", channel.localAddress(), options.mode,
                    options.packetInfo ? ", packet information" : "", format(echoAt));

            String[] messages = {"hello, tunnel", "a second datagram", "bye"};
            int answered = 0;
            for (String message : messages) {
                byte[] payload = message.getBytes(StandardCharsets.UTF_8);
                InetSocketAddress client = system.sendUdp(payload, echoAt); // into the tunnel, as the kernel would
                out.printf("client %s -> %s  \"%s\"%n", format(client), format(echoAt), message);
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
            out.printf("%d of %d datagrams echoed; dropped by IPv4 %d, by UDP %d%n", answered, messages.length,
                    pipeline.ipv4Drops(), pipeline.udpDrops());
            harness.finish();
            return answered == messages.length ? 0 : 1;
        }
    }

    /** The echo on a real device, until Ctrl-C or {@code --seconds}; returns the exit status. */
    static int runNative(EchoOptions options, PrintStream out) throws Exception {
        if (!LinuxTun.isAvailable()) {
            out.println("the native TUN layer is unavailable: " + LinuxTun.unavailabilityCause().getMessage());
            return 1;
        }
        UdpEchoHandler echo = new UdpEchoHandler();
        PacketSwapEcho swap = new PacketSwapEcho();
        OutputStream pcap = openPcap(options);
        EchoPipeline pipeline = new EchoPipeline(echo, MacAddress.randomLocal(), List.of(options.echoAddress), pcap);
        LongSupplier echoed = options.raw ? swap::echoed : echo::echoed;
        // One event loop thread: the same kind of loop Netty's epoll sockets run on.
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            String name = options.name != null ? options.name : options.mode.defaultNameTemplate();
            TunChannel channel = (TunChannel) new Bootstrap().group(group)
                    .channelFactory(TunChannel.factory(LinuxTun.ioSystem()))
                    .option(TunChannelOption.MODE, options.mode)
                    .option(TunChannelOption.PACKET_INFO, options.packetInfo)
                    // Room for an MTU-sized packet and its headers, not the 64 KiB default.
                    .option(TunChannelOption.MAX_PACKET_SIZE, options.mtu + TunIoctl.PI_HEADER_LENGTH + 18)
                    .handler(options.raw ? swap : pipeline)
                    .bind(new TunAddress(name)).sync().channel();
            String device = channel.localAddress().name();
            if (options.configureAddress) {
                LinuxInterfaces interfaces = LinuxTun.interfaces();
                interfaces.setMtu(device, options.mtu);
                interfaces.setIpv4Address(device, options.address, options.prefixLength);
                interfaces.setUp(device, true);
                out.printf("%s (%s): address %s/%d, MTU %d, up%n", device, options.mode,
                        options.address.getHostAddress(), options.prefixLength, options.mtu);
            } else {
                out.printf("%s (%s): attached; address and MTU left as they are%n", device, options.mode);
            }
            out.printf("echoing UDP sent through %s (%s)%s%s; Ctrl-C stops%n", device,
                    options.mode == TunMode.TAP ? "answering ARP for " + options.echoAddress.getHostAddress()
                            : "any address routed to it",
                    options.pcap != null ? "; capturing to " + options.pcap : "",
                    options.raw ? "; raw: packets swapped in place, no codecs" : "");

            Runtime.getRuntime().addShutdownHook(new Thread(() -> channel.close().syncUninterruptibly(), "udp-echo-stop"));
            long[] last = {0};
            group.scheduleAtFixedRate(() -> {
                long now = echoed.getAsLong();
                if (now != last[0]) {
                    out.printf("echoed %d datagrams (+%d); dropped by IPv4 %d, by UDP %d; %s%n", now, now - last[0],
                            pipeline.ipv4Drops(), pipeline.udpDrops(), transport(channel.counters()));
                    last[0] = now;
                }
            }, 1, 1, TimeUnit.SECONDS);
            if (options.seconds > 0) {
                channel.closeFuture().await(options.seconds, TimeUnit.SECONDS);
                channel.close().sync();
            } else {
                channel.closeFuture().sync();
            }
            out.printf("stopped: echoed %d datagrams; dropped by IPv4 %d, by UDP %d; %s%n", echoed.getAsLong(),
                    pipeline.ipv4Drops(), pipeline.udpDrops(), transport(channel.counters()));
            return 0;
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            if (pcap != null) {
                pcap.close();
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

    private static OutputStream openPcap(EchoOptions options) throws IOException {
        return options.pcap == null ? null : new FileOutputStream(options.pcap);
    }

    private static String format(InetSocketAddress address) {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }
}
