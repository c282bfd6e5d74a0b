package org.tuntap.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.linux.LinuxTun;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The example as an operator runs it on a real device: its own JVM (so exits, signals and
 * shutdown hooks are real), stdout and stderr captured. Whatever happens, stderr holds at most
 * one line per problem and never a stack trace or a Netty warning.
 */
@Tag("netns")
class UdpEchoAppNativeTest {

    @BeforeEach
    void inPrivateNamespace() {
        Netns.require();
        LinuxTun.ensureAvailability();
    }

    @Test
    void secondsStopsItWithTotalsStatus0AndNothingOnStderr() throws Exception {
        Finished run = App.start("native", "--name", "secs0", "--seconds", "1").finish();
        assertEquals(0, run.status, run.toString());
        assertTrue(run.out.contains("secs0 (TUN): address 198.51.100.1/24, 2001:db8::1/64, MTU 1500, up"),
                run.toString());
        assertTrue(run.out.contains("stopped (time up): echoed 0 datagrams; dropped by IPv6 0, IPv4 0, UDP 0, ICMP 0; errors 0"),
                run.toString());
        assertEquals("", run.err, "no machine-id warning, no stack trace: " + run);
    }

    @Test
    void itAnswersPingAndPing6AndUdpOverIpv6OnTun() throws Exception {
        // The device's IPv6 address from --address6 (the default is 2001:db8::1/64).
        App app = App.start("native", "--name", "dual0", "--address6", "2001:db8:0:4::1/64");
        try {
            app.awaitOut("dual0 (TUN): address 198.51.100.1/24, 2001:db8:0:4::1/64, MTU 1500, up");
            app.awaitOut("echoing UDP");
            assertTrue(InetAddress.getByName("198.51.100.2").isReachable(5000), "ping 198.51.100.2");
            assertTrue(InetAddress.getByName("2001:db8:0:4::2").isReachable(5000), "ping -6 2001:db8:0:4::2");
            echoOnce("2001:db8:0:4::2");
            echoOnce("198.51.100.2");
        } finally {
            run("kill", "-TERM", Long.toString(app.process.pid()));
        }
        Finished run = app.finish();
        assertTrue(run.out.contains("stopped (signal): echoed 2 datagrams; dropped by IPv6 0, IPv4 0, UDP 0, ICMP 0"),
                run.toString());
        assertEquals("", run.err, run.toString());
    }

    @Test
    void sigtermStopsItWithTheTotalsEveryTime() throws Exception {
        for (int i = 0; i < 3; i++) {
            App app = App.start("native", "--name", "term0");
            app.awaitOut("echoing UDP");
            echoOnce("198.51.100.2");
            // SIGTERM, as kill and systemd send it (Process.destroy() would close our end of its pipes).
            run("kill", "-TERM", Long.toString(app.process.pid()));
            Finished run = app.finish();
            assertEquals(128 + 15, run.status, "the JVM's status for SIGTERM: " + run);
            assertTrue(run.out.contains("stopped (signal): echoed 1 datagrams"), run.toString());
            assertEquals("", run.err, run.toString());
        }
    }

    @Test
    void aDeletedDeviceEndsItWithStatus1AndOneLine() throws Exception {
        App app = App.start("native", "--name", "gone0");
        app.awaitOut("echoing UDP");
        run("ip", "link", "del", "dev", "gone0");
        Finished run = app.finish();
        assertEquals(UdpEchoApp.EXIT_FAILED, run.status, run.toString());
        assertTrue(run.out.contains("stopped (device closed)"), run.toString());
        assertTrue(run.err.contains("udp-echo: device gone0 failed: read failed: EBADFD"), run.toString());
        assertNoStackTrace(run);
    }

    @Test
    void withoutCapNetAdminItSaysSoOnce() throws Exception {
        Finished run = App.start(List.of("setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--"),
                "native", "--name", "noperm0", "--seconds", "1").finish();
        assertEquals(UdpEchoApp.EXIT_FAILED, run.status, run.toString());
        assertEquals(1, run.err.lines().count(), run.toString());
        assertEquals(1, run.err.split("CAP_NET_ADMIN", -1).length - 1, "the hint once: " + run);
        assertTrue(run.err.startsWith("udp-echo: cannot bind TUN/TAP device 'noperm0': ioctl(TUNSETIFF) failed: EPERM"),
                run.toString());
        assertNoStackTrace(run);
    }

    @Test
    void aBusyDeviceOrOneOfTheOtherTypeIsOneLine() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Channel holder = new Bootstrap().group(group).channelFactory(TunChannel.factory(LinuxTun.ioSystem()))
                    .handler(new ChannelInboundHandlerAdapter()).bind(new TunAddress("busy0")).sync().channel();
            Finished busy = App.start("native", "--name", "busy0", "--seconds", "1").finish();
            holder.close().sync();
            assertEquals(UdpEchoApp.EXIT_FAILED, busy.status, busy.toString());
            assertTrue(busy.err.startsWith("udp-echo: cannot bind TUN/TAP device 'busy0'")
                    && busy.err.contains("EBUSY"), busy.toString());
            assertEquals(1, busy.err.lines().count(), busy.toString());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }

        run("ip", "tuntap", "add", "dev", "atap0", "mode", "tap");
        try {
            Finished wrongType = App.start("native", "--name", "atap0", "--seconds", "1").finish();
            assertEquals(UdpEchoApp.EXIT_FAILED, wrongType.status, wrongType.toString());
            assertTrue(wrongType.err.startsWith("udp-echo: cannot bind TUN/TAP device 'atap0'")
                    && wrongType.err.contains("EINVAL"), wrongType.toString());
            assertEquals(1, wrongType.err.lines().count(), wrongType.toString());
        } finally {
            run("ip", "link", "del", "dev", "atap0");
        }
    }

    @Test
    void addressNoneOnAMissingDeviceSaysSoAndCreatesNothing() throws Exception {
        Finished run = App.start("native", "--name", "nosuch0", "--address", "none", "--seconds", "1").finish();
        assertEquals(UdpEchoApp.EXIT_FAILED, run.status, run.toString());
        assertEquals("udp-echo: no device named nosuch0: --address none attaches to an existing device"
                + " (create one first: ip tuntap add dev nosuch0 mode tun)", run.err.strip(), run.toString());
        assertFalse(linkExists("nosuch0"));
    }

    @Test
    void aBadMtuIsRefusedBeforeAnyDeviceIsCreated() throws Exception {
        Finished run = App.start("native", "--name", "mtu0", "--mtu", "67").finish();
        assertEquals(UdpEchoApp.EXIT_USAGE, run.status, run.toString());
        assertEquals(1, run.err.lines().count(), run.toString());
        assertFalse(linkExists("mtu0"));
    }

    private static void assertNoStackTrace(Finished run) {
        assertFalse(run.err.contains("\tat ") || run.err.contains("Exception in thread")
                || run.err.contains("WARNING"), run.toString());
    }

    /** One datagram to the echo, from the kernel's side; waits for the answer. */
    private static void echoOnce(String to) throws IOException {
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.setSoTimeout(5000);
            byte[] payload = "ping".getBytes(StandardCharsets.US_ASCII);
            socket.send(new DatagramPacket(payload, payload.length, InetAddress.getByName(to), UdpEchoApp.ECHO_PORT));
            DatagramPacket reply = new DatagramPacket(new byte[16], 16);
            socket.receive(reply);
            assertEquals("ping", new String(reply.getData(), 0, reply.getLength(), StandardCharsets.US_ASCII));
        }
    }

    private static boolean linkExists(String name) throws Exception {
        return new ProcessBuilder("ip", "link", "show", "dev", name).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor() == 0;
    }

    private static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + output);
    }

    /** A finished run of the app. */
    record Finished(int status, String out, String err) {
        @Override
        public String toString() {
            return "status " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** The app in a JVM of its own, as {@code java -jar udp-echo.jar} starts it. */
    static final class App {
        final Process process;
        private final List<String> outLines = new ArrayList<>();
        private final CompletableFuture<String> out = new CompletableFuture<>();
        private final CompletableFuture<String> err = new CompletableFuture<>();

        private App(Process process) {
            this.process = process;
            Thread reader = new Thread(() -> readLines(process.getInputStream()), "app-stdout");
            reader.setDaemon(true);
            reader.start();
            Thread errReader = new Thread(() -> {
                try (InputStream stream = process.getErrorStream()) {
                    err.complete(new String(stream.readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    err.completeExceptionally(e);
                }
            }, "app-stderr");
            errReader.setDaemon(true);
            errReader.start();
        }

        static App start(String... args) throws IOException {
            return start(List.of(), args);
        }

        static App start(List<String> prefix, String... args) throws IOException {
            List<String> command = new ArrayList<>(prefix);
            command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
            command.add("--enable-native-access=ALL-UNNAMED");
            command.add("-cp");
            command.add(testClassPath());
            command.add(UdpEchoApp.class.getName());
            command.addAll(Arrays.asList(args));
            Process process = new ProcessBuilder(command).start();
            process.getOutputStream().close();
            return new App(process);
        }

        private void readLines(InputStream stream) {
            StringBuilder all = new StringBuilder();
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    all.append(line).append('\n');
                    synchronized (outLines) {
                        outLines.add(line);
                        outLines.notifyAll();
                    }
                }
                out.complete(all.toString());
            } catch (IOException e) {
                out.completeExceptionally(e);
            }
        }

        /** Waits until stdout has a line containing {@code text}. */
        void awaitOut(String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            synchronized (outLines) {
                while (outLines.stream().noneMatch(line -> line.contains(text))) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !process.isAlive() && out.isDone()) {
                        throw new AssertionError("no '" + text + "' on stdout: " + outLines);
                    }
                    TimeUnit.NANOSECONDS.timedWait(outLines, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
                }
            }
        }

        Finished finish() throws Exception {
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the app did not stop");
            return new Finished(process.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
        }

        private static String testClassPath() {
            String surefire = System.getProperty("surefire.test.class.path");
            return surefire != null ? surefire : System.getProperty("java.class.path");
        }
    }
}
