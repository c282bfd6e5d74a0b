package org.tuntap.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.ReferenceCountUtil;
import org.tuntap.codec.ethernet.MacAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.linux.LinuxTun;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The unprivileged half of the privilege-separated echo: receives a TUN/TAP fd from
 * {@link TunFdOpener} over a Unix domain socket and runs the UDP echo ({@link EchoPipeline}) on
 * a {@link TunChannel} that adopts it. Needs no capability at all: the device exists and is
 * configured already, and the fd is all it takes to read and write it.
 *
 * <pre>
 * setpriv --inh-caps=-all --bounding-set=-all -- \
 *   java --enable-native-access=ALL-UNNAMED -cp udp-echo.jar org.tuntap.examples.AdoptedFdEcho \
 *     --socket /run/tun-echo.sock [--pi] [--echo-address 198.51.100.2] [--pcap FILE] [--seconds N]
 * </pre>
 * {@code --pi} must match the opener's: the kernel's {@code TUNGETIFF} answer cannot tell packet
 * information on from off (see {@link TunChannel#TunChannel(org.tuntap.transport.spi.TunIoSystem, int)}).
 * Name and mode are learnt from the fd.
 */
public final class AdoptedFdEcho {
    private AdoptedFdEcho() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out));
    }

    static int run(String[] args, PrintStream out) throws Exception {
        String socket = null;
        boolean packetInfo = false;
        Inet4Address echoAddress = (Inet4Address) InetAddress.getByName("198.51.100.2");
        String pcapPath = null;
        long seconds = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--socket": socket = args[++i]; break;
                case "--pi": packetInfo = true; break;
                case "--echo-address": echoAddress = (Inet4Address) InetAddress.getByName(args[++i]); break;
                case "--pcap": pcapPath = args[++i]; break;
                case "--seconds": seconds = Long.parseLong(args[++i]); break;
                default:
                    out.println("unknown argument: " + args[i] + "\nusage: AdoptedFdEcho --socket PATH [--pi]"
                            + " [--echo-address A.B.C.D] [--pcap FILE] [--seconds N]");
                    return 2;
            }
        }
        if (socket == null) {
            out.println("--socket PATH is required");
            return 2;
        }
        if (!LinuxTun.isAvailable()) {
            out.println("the native TUN layer is unavailable: " + LinuxTun.unavailabilityCause().getMessage());
            return 1;
        }
        CountDownLatch finished = new CountDownLatch(1);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        OutputStream pcap = pcapPath == null ? null : new FileOutputStream(pcapPath);
        try {
            FileDescriptor fd = receiveFd(group, socket);
            UdpEchoHandler echo = new UdpEchoHandler();
            EchoPipeline pipeline = new EchoPipeline(echo, MacAddress.randomLocal(), List.of(echoAddress), pcap);
            // The same loop as the domain socket: adopted, the device is just another epoll fd.
            TunChannel channel = (TunChannel) new Bootstrap().group(group)
                    .channelFactory(() -> new TunChannel(fd.intValue()))
                    .option(TunChannelOption.PACKET_INFO, packetInfo)
                    .option(TunChannelOption.MAX_PACKET_SIZE, 1500 + 22)
                    .handler(pipeline)
                    .register().sync().channel();
            out.printf("adopted fd %d: %s (%s%s), effective capabilities %s; echoing%n", channel.fd(),
                    channel.localAddress(), channel.config().getMode(),
                    channel.config().isPacketInfo() ? ", packet information" : "", effectiveCapabilities());

            // SIGTERM/Ctrl-C: close the channel, then let this thread print its totals before the JVM halts.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                channel.close().syncUninterruptibly();
                awaitQuietly(finished);
            }, "echo-stop"));
            long[] last = {0};
            group.scheduleAtFixedRate(() -> {
                long now = echo.echoed();
                if (now != last[0]) {
                    out.printf("echoed %d datagrams (+%d); %s%n", now, now - last[0], UdpEchoApp.transport(channel.counters()));
                    last[0] = now;
                }
            }, 1, 1, TimeUnit.SECONDS);
            if (seconds > 0) {
                channel.closeFuture().await(seconds, TimeUnit.SECONDS);
                channel.close().sync();
            } else {
                channel.closeFuture().sync();
            }
            out.printf("stopped: echoed %d datagrams; %s%n", echo.echoed(), UdpEchoApp.transport(channel.counters()));
            return 0;
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            if (pcap != null) {
                pcap.close();
            }
            out.flush();
            finished.countDown();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Connects to the opener and takes the one fd it sends (SCM_RIGHTS). */
    private static FileDescriptor receiveFd(EventLoopGroup group, String socket) throws Exception {
        CompletableFuture<FileDescriptor> received = new CompletableFuture<>();
        new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                .option(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof FileDescriptor && !received.isDone()) {
                            received.complete((FileDescriptor) msg); // ours now: the channel adopts it
                        } else {
                            ReferenceCountUtil.release(msg);
                        }
                        ctx.close();
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        received.completeExceptionally(new IOException(socket + " closed without sending an fd"));
                    }
                })
                .connect(new DomainSocketAddress(socket)).sync();
        return received.get(30, TimeUnit.SECONDS);
    }

    /** {@code CapEff} of /proc/self/status: all zeros for a process without privileges. */
    private static String effectiveCapabilities() throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("CapEff:")) {
                return line.substring("CapEff:".length()).trim();
            }
        }
        return "unknown";
    }
}
