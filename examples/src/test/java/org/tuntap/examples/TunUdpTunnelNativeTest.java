package org.tuntap.examples;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.linux.LinuxTun;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The UDP tunnel between two network namespaces joined by a veth pair, against the kernel:
 *
 * <pre>
 *  this test's namespace: sockets -> tvpa 198.51.100.1 -> TunUdpTunnel (in this JVM) -> tva 192.0.2.1 ─┐ veth
 *  namespace FAR:  echo servers  <- tvpb 198.51.100.2 <- TunUdpTunnel (its own JVM)  <- tvb 192.0.2.2 ─┘
 * </pre>
 *
 * UDP datagrams and a TCP stream of 8 MiB go through both tunnel ends to an echo and back, byte
 * for byte, plain and with offloads (where the counters must show reads cut into several
 * datagrams and joined again: super-packets crossed whole). FAR is made with {@code ip netns add}
 * under a name unique to this run and deleted after every test, however it ended.
 */
@Tag("netns")
class TunUdpTunnelNativeTest {
    private static final int TCP_BYTES = 8 << 20;

    private final String far = "tuntap-vpn-" + ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime());
    private final List<Process> processes = new ArrayList<>();
    private MultiThreadIoEventLoopGroup group;
    private TunUdpTunnel.Endpoint near;
    private boolean farCreated;

    @BeforeEach
    void inPrivateNamespace() {
        Netns.require();
        LinuxTun.ensureAvailability();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterEach
    void cleanUp() throws Exception {
        try {
            for (Process process : processes) {
                process.destroy(); // SIGTERM
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            if (near != null) {
                near.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        } finally {
            if (farCreated) {
                // Takes the veth pair and FAR's tunnel device with it.
                assertEquals(0, run("ip", "netns", "del", far).exitValue(), "ip netns del " + far);
            }
        }
    }

    @Test
    void plainEachPacketIsOneDatagram() throws Exception {
        exchangeThroughTheTunnel(false);
        assertEquals(near.deviceToPeer.reads, near.deviceToPeer.datagrams, "one datagram per packet");
        assertEquals(near.peerToDevice.datagrams, near.peerToDevice.writes);
    }

    @Test
    void withOffloadsSuperPacketsCrossWholeInChunks() throws Exception {
        exchangeThroughTheTunnel(true);
        assertTrue(near.deviceToPeer.datagrams > near.deviceToPeer.reads,
                "reads longer than a datagram (super-packets) were cut: " + near.totals());
        assertTrue(near.peerToDevice.writes < near.peerToDevice.datagrams,
                "the peer's super-packets were joined before the device got them: " + near.totals());
        assertEquals(0, near.peerToDevice.reassembler.malformed() + near.peerToDevice.reassembler.incomplete(), near.totals());
    }

    /**
     * Datagrams waiting on the socket are read in one read loop, as the device's packets are, not
     * one loop (a trip round the event loop and a device write) each: the socket's receive
     * allocator had a budget of one datagram, which halved the plain tunnel's throughput.
     */
    @Test
    void datagramsWaitingOnTheSocketAreReadInOneLoop() throws Exception {
        int burst = 16;
        near = TunUdpTunnel.start(LinuxTun.ioSystem(), group,
                TunnelOptions.parse("--device", "tvpr", "--listen", "127.0.0.1:51821", "--peer", "127.0.0.1:51822"));
        ip("link", "set", "tvpr", "up"); // a device that is down refuses writes (EIO)
        CountDownLatch written = new CountDownLatch(burst);
        near.tun.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                written.countDown();
                ctx.write(msg, promise);
            }
        });
        near.udp.eventLoop().submit(() -> near.udp.config().setAutoRead(false)).sync();
        try (DatagramSocket peer = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 51822))) {
            for (int i = 0; i < burst; i++) {
                byte[] packet = ipv4Header(i); // the device takes IP packets only
                peer.send(new DatagramPacket(packet, packet.length, near.udp.localAddress()));
            }
        }
        near.udp.eventLoop().submit(() -> near.udp.config().setAutoRead(true)).sync();
        written.await();

        long[] counted = near.udp.eventLoop().submit(() -> new long[] {near.peerToDevice.datagrams, near.peerToDevice.readLoops}).get();
        assertEquals(burst, counted[0], near.totals());
        assertTrue(counted[1] < burst, "the waiting datagrams took one read loop each: " + near.totals());
    }

    /** A bare IPv4 header from 198.51.100.2 to 198.51.100.1 (protocol 253, for experiments) with ID {@code id}. */
    private static byte[] ipv4Header(int id) {
        ByteBuffer header = ByteBuffer.allocate(20)
                .put((byte) 0x45).put((byte) 0).putShort((short) 20).putShort((short) id).putShort((short) 0)
                .put((byte) 64).put((byte) 253).putShort((short) 0)
                .put(new byte[] {(byte) 198, 51, 100, 2}).put(new byte[] {(byte) 198, 51, 100, 1});
        return header.array();
    }

    private void exchangeThroughTheTunnel(boolean offload) throws Exception {
        ip("netns", "add", far);
        farCreated = true;
        ip("-n", far, "link", "set", "lo", "up");
        ip("link", "add", "tva", "type", "veth", "peer", "name", "tvb", "netns", far);
        ip("addr", "add", "192.0.2.1/24", "dev", "tva");
        ip("link", "set", "tva", "up");
        ip("-n", far, "addr", "add", "192.0.2.2/24", "dev", "tvb");
        ip("-n", far, "link", "set", "tvb", "up");

        List<String> nearArgs = new ArrayList<>(List.of("--device", "tvpa", "--listen", "192.0.2.1:51820",
                "--peer", "192.0.2.2:51820"));
        List<String> farArgs = new ArrayList<>(List.of("--device", "tvpb", "--listen", "192.0.2.2:51820",
                "--peer", "192.0.2.1:51820"));
        if (offload) {
            nearArgs.add("--offload");
            farArgs.add("--offload");
        }
        near = TunUdpTunnel.start(LinuxTun.ioSystem(), group, TunnelOptions.parse(nearArgs.toArray(String[]::new)));
        configureDevice(List.of(), "tvpa", "198.51.100.1/24");
        Lines farEnd = startInFar(TunUdpTunnel.class, farArgs.toArray(String[]::new));
        String ready = farEnd.await(line -> line.startsWith("ready"));
        assertTrue(ready.contains(offload ? "offloads" : "without offloads"), ready);
        configureDevice(List.of("-n", far), "tvpb", "198.51.100.2/24");
        startInFar(EchoServers.class, "198.51.100.2", "7").await(line -> line.startsWith("listening"));

        InetAddress nearAddress = InetAddress.getByName("198.51.100.1");
        InetSocketAddress echo = new InetSocketAddress(InetAddress.getByName("198.51.100.2"), 7);
        try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(nearAddress, 0))) {
            udp.setSoTimeout(10_000);
            Random random = new Random(12);
            for (int size : new int[] {1, 100, 1000, 1420 - 28}) { // up to the device MTU
                byte[] payload = new byte[size];
                random.nextBytes(payload);
                udp.send(new DatagramPacket(payload, size, echo));
                DatagramPacket reply = new DatagramPacket(new byte[size + 1], size + 1);
                udp.receive(reply);
                assertEquals(echo, reply.getSocketAddress());
                assertArrayEquals(payload, Arrays.copyOf(reply.getData(), reply.getLength()), size + "-byte datagram");
            }
        }

        byte[] sent = new byte[TCP_BYTES];
        new Random(13).nextBytes(sent);
        try (Socket tcp = new Socket()) {
            tcp.bind(new InetSocketAddress(nearAddress, 0));
            tcp.connect(echo, 10_000);
            tcp.setSoTimeout(30_000);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = tcp.getOutputStream();
                    out.write(sent);
                    tcp.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] echoed = tcp.getInputStream().readAllBytes();
            writer.get(30, TimeUnit.SECONDS);
            assertEquals(sent.length, echoed.length, "bytes echoed");
            assertArrayEquals(sent, echoed, "the TCP stream, both ways through the tunnel");
        }

        // The far end stops on SIGTERM with its totals: nothing dropped, nothing refused.
        farEnd.process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close its output
        assertTrue(farEnd.process.waitFor(30, TimeUnit.SECONDS));
        String totals = farEnd.await(line -> line.startsWith("tunnelled"));
        assertTrue(totals.contains("dropped: 0 from elsewhere, 0 too long"), totals);
        assertTrue(totals.endsWith("errors: device 0, socket 0"), totals);
        if (offload) {
            assertTrue(totals.contains("0 malformed, 0 duplicate, 0 incomplete"), totals);
        }
        near.close();
        assertEquals(0, near.peerToDevice.foreign + near.deviceToPeer.oversize, near.totals());
        assertEquals(0, near.deviceToPeer.errors + near.peerToDevice.errors, near.totals());
    }

    /** As the benchmark does: MTU 1420 (room for the outer headers), the address, up. */
    private void configureDevice(List<String> namespace, String device, String address) throws Exception {
        List<String> base = new ArrayList<>(namespace);
        ip(concat(base, "link", "set", device, "mtu", "1420"));
        ip(concat(base, "addr", "add", address, "dev", device));
        ip(concat(base, "link", "set", device, "up"));
    }

    private static String[] concat(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(Arrays.asList(tail));
        return all.toArray(String[]::new);
    }

    /** A child JVM running {@code main} on the test class path inside FAR. */
    private Lines startInFar(Class<?> main, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", far));
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(Arrays.asList(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(process);
        return new Lines(process);
    }

    private static void ip(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(Arrays.asList(args));
        Finished result = run(command.toArray(String[]::new));
        assertEquals(0, result.exitValue(), String.join(" ", command) + ": " + result.output());
    }

    private static Finished run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output;
        try (InputStream in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        return new Finished(process.exitValue(), output);
    }

    private record Finished(int exitValue, String output) {
    }

    /** The output lines of a child process, as they come. */
    private static final class Lines {
        final Process process;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final StringBuilder all = new StringBuilder();

        Lines(Process process) {
            this.process = process;
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // the process went away
                }
            }, "child-output");
            reader.setDaemon(true);
            reader.start();
        }

        /** The first line that matches; fails with everything printed if none comes (the bound is against a hang). */
        String await(Predicate<String> match) throws InterruptedException {
            for (;;) {
                String line = lines.poll(60, TimeUnit.SECONDS);
                assertNotNull(line, "no matching line; the process printed:\n" + all);
                all.append(line).append('\n');
                if (match.test(line)) {
                    return line;
                }
            }
        }
    }
}
