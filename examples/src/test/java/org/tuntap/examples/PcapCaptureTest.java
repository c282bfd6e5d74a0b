package org.tuntap.examples;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The example's {@code --pcap}: the device's packets as the kernel sees them (IPv4 for TUN,
 * Ethernet for TAP, no PI header), both directions, real checksums; read back in Java, and by
 * tshark where it is installed.
 */
class PcapCaptureTest {
    private static final byte[] CLIENT = {(byte) 192, 0, 2, 1};
    private static final byte[] ECHO = {(byte) 198, 51, 100, 2};

    @ParameterizedTest
    @CsvSource({"tun,false", "tun,true", "tap,false", "tap,true"})
    void capturesTheDevicesPacketsBothWays(String mode, boolean packetInfo) throws Exception {
        Path pcap = Files.createTempFile("udp-echo", ".pcap");
        try {
            long before = System.currentTimeMillis() * 1000;
            String[] args = packetInfo
                    ? new String[] {"memory", "--mode", mode, "--pi", "--pcap", pcap.toString()}
                    : new String[] {"memory", "--mode", mode, "--pcap", pcap.toString()};
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            PrintStream printed = new PrintStream(output, true, StandardCharsets.UTF_8);
            int status = UdpEchoApp.runInMemory(EchoOptions.parse(args), printed, printed);
            assertEquals(0, status, output.toString(StandardCharsets.UTF_8));
            long after = System.currentTimeMillis() * 1000 + 1000;

            PcapFile capture = new PcapFile(Files.readAllBytes(pcap));
            assertEquals(mode.equals("tap") ? 1 : 101, capture.linkType, "LINKTYPE_ETHERNET for TAP, LINKTYPE_RAW for TUN");
            // 3 IPv4 datagrams and echoes, one IPv6 datagram and echo, two pings and replies; on TAP
            // the network first resolves the echo's addresses: an ARP request and reply, a neighbour
            // solicitation and advertisement, as the kernel does.
            boolean tap = mode.equals("tap");
            assertEquals(tap ? 16 : 12, capture.records.size(), "every packet of the demo, both ways");
            int arp = tap ? 2 : 0;
            for (int i = 0; i < arp; i++) {
                byte[] frame = capture.records.get(i).packet();
                assertEquals(0x0806, ((frame[12] & 0xFF) << 8) | (frame[13] & 0xFF), "record " + i + " is ARP");
                assertEquals(i + 1, frame[14 + 7], "a request, then the echo's reply");
                assertArrayEquals(ECHO, Arrays.copyOfRange(frame, 14 + (i == 0 ? 24 : 14), 14 + (i == 0 ? 28 : 18)),
                        "who has the echo's address; it is here");
            }
            long previous = 0;
            for (int i = arp; i < arp + 6; i++) { // the IPv4 UDP exchange comes first
                PcapFile.Record record = capture.records.get(i);
                byte[] ip = capture.ipv4(record); // PI stripped: the IPv4 header comes first
                assertEquals(0x45, ip[0] & 0xFF, "record " + i + " starts with an IPv4 header");
                boolean inbound = (i - arp) % 2 == 0;
                assertArrayEquals(inbound ? CLIENT : ECHO, Arrays.copyOfRange(ip, 12, 16), "source of record " + i);
                assertArrayEquals(inbound ? ECHO : CLIENT, Arrays.copyOfRange(ip, 16, 20), "destination of record " + i);
                assertTrue(PcapFile.ipv4ChecksumValid(ip), "IPv4 checksum of record " + i);
                assertTrue(PcapFile.udpChecksumValid(ip), "UDP checksum of record " + i);
                assertTrue(record.epochMicros() >= before && record.epochMicros() <= after, "timestamp of record " + i);
                assertTrue(record.epochMicros() >= previous, "timestamps in order");
                previous = record.epochMicros();
            }
            if (!tsharkInstalled()) {
                Assumptions.abort("tshark is not installed (apt-get install tshark): the capture was checked in Java only");
            }
            checkWithTshark(pcap, 6, "192.0.2.1", "198.51.100.2");
        } finally {
            Files.deleteIfExists(pcap);
        }
    }

    /**
     * tshark's reading of the capture's UDP over IPv4, checksums verified: {@code packets} datagrams, all
     * between {@code client} and {@code server}, both directions, both checksums "good" (status 1).
     */
    static void checkWithTshark(Path pcap, int packets, String client, String server)
            throws IOException, InterruptedException {
        Process tshark = new ProcessBuilder("tshark", "-r", pcap.toString(), "-n", "-Y", "ip && udp",
                "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                "-T", "fields", "-E", "separator=,",
                "-e", "ip.src", "-e", "ip.dst", "-e", "ip.checksum.status", "-e", "udp.checksum.status")
                .redirectErrorStream(true).start();
        String out = new String(tshark.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!tshark.waitFor(60, TimeUnit.SECONDS)) {
            tshark.destroyForcibly();
            fail("tshark did not finish");
        }
        assertEquals(0, tshark.exitValue(), out);
        List<String> lines = out.lines().filter(line -> !line.isBlank() && !line.startsWith("Running as")).toList();
        assertEquals(packets, lines.size(), out);
        int inbound = 0;
        int outbound = 0;
        for (String line : lines) {
            if (line.equals(client + "," + server + ",1,1")) {
                inbound++;
            } else if (line.equals(server + "," + client + ",1,1")) {
                outbound++;
            } else {
                fail("tshark read a packet that is not a good-checksum echo datagram: " + line + "\n" + out);
            }
        }
        assertTrue(inbound > 0 && outbound > 0, "both directions: " + out);
    }

    static boolean tsharkInstalled() {
        try {
            Process probe = new ProcessBuilder("tshark", "--version").redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            return probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
