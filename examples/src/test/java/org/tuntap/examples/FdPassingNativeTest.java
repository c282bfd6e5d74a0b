package org.tuntap.examples;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tuntap.testsupport.Netns;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The privilege-separated echo against the kernel: {@link TunFdOpener} (privileged) opens and
 * configures a TUN device and passes its fd over a Unix socket to {@link AdoptedFdEcho}, which runs
 * with every capability dropped ({@code setpriv}); kernel UDP sockets then get byte-exact echoes.
 */
@Tag("netns")
class FdPassingNativeTest {
    private final List<Process> processes = new ArrayList<>();
    private Path directory;

    @BeforeEach
    void inPrivateNamespace() throws IOException {
        Netns.require();
        directory = Files.createTempDirectory("fd-passing");
    }

    @AfterEach
    void stop() throws Exception {
        for (Process process : processes) {
            process.destroy(); // SIGTERM: the shutdown hooks close the channels
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        try (var files = Files.list(directory)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
        }
        Files.deleteIfExists(directory);
    }

    @Test
    void anUnprivilegedEchoAnswersThroughTheFdItWasPassed() throws Exception {
        Path socket = directory.resolve("tun.sock");
        Path pcap = directory.resolve("echo.pcap");
        Lines opener = start(List.of(), TunFdOpener.class, "--socket", socket.toString(), "--name", "fdpass0",
                "--address", "198.51.100.1/24");
        opener.await(line -> line.contains("serving its fd on"));

        Lines echo = start(List.of("setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--"),
                AdoptedFdEcho.class, "--socket", socket.toString(), "--pcap", pcap.toString());
        String adopted = echo.await(line -> line.startsWith("adopted fd"));
        assertTrue(adopted.contains("fdpass0 (TUN)"), adopted);
        assertTrue(adopted.contains("effective capabilities 0000000000000000"), "no capabilities: " + adopted);
        opener.await(line -> line.contains("sent the fd of fdpass0"));

        try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("198.51.100.1"), 0))) {
            client.setSoTimeout(10_000);
            InetSocketAddress echoAt = new InetSocketAddress(InetAddress.getByName("198.51.100.2"), 7);
            Random random = new Random(11);
            int[] sizes = {1, 64, 512, 1400, 1472};
            for (int size : sizes) {
                byte[] payload = new byte[size];
                random.nextBytes(payload);
                client.send(new DatagramPacket(payload, size, echoAt));
                DatagramPacket reply = new DatagramPacket(new byte[2000], 2000);
                client.receive(reply);
                assertEquals(echoAt, reply.getSocketAddress(), "the echo answers from where it was sent to");
                assertArrayEquals(payload, Arrays.copyOf(reply.getData(), reply.getLength()), size + "-byte payload");
            }
        }

        // The capture of the device's packets: every datagram in and out, checksums good.
        echo.process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close its output
        assertTrue(echo.process.waitFor(30, TimeUnit.SECONDS));
        String stopped = echo.await(line -> line.startsWith("stopped:"));
        assertTrue(stopped.contains("echoed 5 datagrams"), stopped);
        PcapFile capture = new PcapFile(Files.readAllBytes(pcap));
        assertEquals(101, capture.linkType);
        List<byte[]> udp = capture.records.stream().map(capture::ipv4).filter(ip -> ip[0] == 0x45 && ip[9] == 17).toList();
        assertEquals(10, udp.size(), "5 datagrams in, 5 out");
        for (byte[] ip : udp) {
            assertTrue(PcapFile.ipv4ChecksumValid(ip) && PcapFile.udpChecksumValid(ip), "checksums of a captured datagram");
        }
        if (PcapCaptureTest.tsharkInstalled()) {
            PcapCaptureTest.checkWithTshark(pcap, 10, "198.51.100.1", "198.51.100.2");
        }
    }

    /** A child JVM running {@code main} on the test class path, behind {@code prefix}. */
    private Lines start(List<String> prefix, Class<?> main, String... args) throws IOException {
        List<String> command = new ArrayList<>(prefix);
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
