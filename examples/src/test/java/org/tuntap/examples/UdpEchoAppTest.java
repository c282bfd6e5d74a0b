package org.tuntap.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The example through its entry point, as the README runs it and as an operator mistypes it. */
class UdpEchoAppTest {

    /** What a run printed, and how it ended. */
    record Run(int status, String out, String err) {
        static Run of(String... args) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = UdpEchoApp.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }

        /** One line on stderr, nothing that looks like a stack trace. */
        String oneErrorLine() {
            assertEquals(1, err.lines().count(), "stderr: " + err);
            assertFalse(err.contains("\tat ") || err.contains("Exception in thread"), "stderr: " + err);
            return err.strip();
        }
    }

    @ParameterizedTest
    @CsvSource({"tun,false", "tun,true", "tap,false", "tap,true"})
    void echoesEveryDatagramOverTheInMemoryTunnel(String mode, boolean packetInfo) throws Exception {
        File pcap = File.createTempFile("udp-echo", ".pcap");
        try {
            String[] args = packetInfo
                    ? new String[] {"memory", "--mode", mode, "--pi", "--pcap", pcap.getPath()}
                    : new String[] {"memory", "--mode", mode, "--pcap", pcap.getPath()};
            Run run = Run.of(args);

            assertEquals(0, run.status(), run.out() + run.err());
            assertEquals("", run.err());
            assertTrue(run.out().contains("echo   198.51.100.2:7 -> 192.0.2.1:21345  \"hello, tunnel\""), run.out());
            assertTrue(run.out().contains("reply  198.51.100.2 -> 192.0.2.1  icmp_seq=1, 56 bytes"), run.out());
            boolean tun = mode.equals("tun");
            // Both families in both modes: on TAP the pipeline's ArpHandler answers neighbour discovery.
            assertTrue(run.out().contains(tun ? "in-memory tun0 (TUN)" : "in-memory tap0 (TAP)"), run.out());
            assertTrue(run.out().contains("client [2001:db8::1]:21345 -> [2001:db8::2]:7  \"hello over IPv6\""), run.out());
            assertTrue(run.out().contains("echo   [2001:db8::2]:7 -> [2001:db8::1]:21345  \"hello over IPv6\""), run.out());
            assertTrue(run.out().contains("ping   2001:db8::1 -> 2001:db8::2  icmp_seq=2, 56 bytes"), run.out());
            assertTrue(run.out().contains("reply  2001:db8::2 -> 2001:db8::1  icmp_seq=2, 56 bytes"), run.out());
            assertTrue(run.out().contains("4 of 4 datagrams echoed, 2 of 2 pings answered"), run.out());
            // On TAP also the network's ARP request and neighbour solicitation, and the echo's answers.
            assertEquals(tun ? 12 : 16, pcapRecords(Files.readAllBytes(pcap.toPath())), "every request in, every answer out");
        } finally {
            Files.deleteIfExists(pcap.toPath());
        }
    }

    @Test
    void theTotalsNameEveryLayersDrops() {
        Run tapWithPi = Run.of("--mode", "tap", "--pi");
        assertTrue(tapWithPi.out().contains("4 of 4 datagrams echoed, 2 of 2 pings answered; dropped by PI 0, Ethernet 0, ARP 0, IPv6 0, IPv4 0, UDP 0, ICMP 0"),
                tapWithPi.out());
        Run tun = Run.of("--mode", "tun");
        assertTrue(tun.out().contains("4 of 4 datagrams echoed, 2 of 2 pings answered; dropped by IPv6 0, IPv4 0, UDP 0, ICMP 0"), tun.out());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "native --mtu 67", "native --mtu 0", "native --mtu -1500", "native --mtu 65536",
            "native --mode tap --mtu 65522", "native --mtu 99999999999", "native --mtu big",
            "native --name abcdefghijklmnop", "native --name a/b", "native --name",
            "native --prefix 33", "native --address 198.51.100.1/33", "native --address 198.51.100.1/x",
            "native --seconds -5", "native --seconds 0",
            "native --address 999.1.1.1", "native --address localhost/8", "native --echo-address example.org",
            "native --address 2001:db8::1", "native --address none", "native --address none --name tun%d",
            "--mode tan", "--frobnicate", "native --raw --mode tap", "native --offload --pi", "native --offload --raw",
            "native --mode tap --offload --pcap x.pcap",
            "native --address6 198.51.100.1", "native --address6 localhost", "native --address6 2001:db8::1/129",
            "native --address6 2001:db8::1/x", "native --address6 ff02::1", "native --address6 ::", "native --address6 ::1",
            "native --address6 fe80::1%eth0", "native --address6", "native --echo-address6 198.51.100.2",
            "native --mtu 1279", "native --address none --name tun0 --address6 2001:db8::5",
    })
    void everyBadOptionIsOneLineAndStatus2BeforeAnythingHappens(String args) {
        Run run = Run.of(args.split(" "));
        assertEquals(UdpEchoApp.EXIT_USAGE, run.status(), run.err());
        assertEquals("", run.out());
        String line = run.oneErrorLine();
        assertTrue(line.startsWith("udp-echo: ") && line.endsWith("(--help lists the options)"), line);
    }

    @Test
    void messagesSayWhatIsWrong() {
        assertTrue(Run.of("native", "--mtu", "67").oneErrorLine().contains("--mtu 67: the kernel takes 68 to 65535 on a TUN device"));
        assertTrue(Run.of("native", "--mode", "tap", "--mtu", "65522").oneErrorLine().contains("68 to 65521 on a TAP device"));
        assertTrue(Run.of("native", "--name", "abcdefghijklmnop").oneErrorLine().contains("16 bytes; Linux allows at most 15"));
        assertTrue(Run.of("native", "--prefix", "33").oneErrorLine().contains("--prefix 33: must be 0 to 32"));
        assertTrue(Run.of("native", "--seconds", "-5").oneErrorLine().contains("--seconds -5: must be at least 1"));
        // Literals only: a host name is refused at once, never looked up.
        assertTrue(Run.of("native", "--address", "localhost/8").oneErrorLine()
                .contains("--address localhost: not an IPv4 address (A.B.C.D)"));
        assertTrue(Run.of("native", "--address", "999.1.1.1").oneErrorLine().contains("not an IPv4 address"));
        assertTrue(Run.of("native", "--address", "none").oneErrorLine()
                .contains("--address none attaches to an existing device: name it with --name"));
        assertTrue(Run.of("native", "--address6", "localhost").oneErrorLine()
                .contains("--address6 localhost: not an IPv6 address (such as 2001:db8::1)"));
        assertTrue(Run.of("native", "--address6", "2001:db8::1/129").oneErrorLine()
                .contains("--address6 2001:db8::1/129: prefix 129: must be 0 to 128"));
        assertTrue(Run.of("native", "--address6", "ff02::1").oneErrorLine()
                .contains("--address6 ff02::1: not a unicast address for a device"));
        assertTrue(Run.of("native", "--mtu", "1279").oneErrorLine().contains("--mtu 1279: IPv6 needs at least 1280 (or --address6 none)"));
        assertTrue(Run.of("native", "--address", "none", "--name", "tun0", "--address6", "2001:db8::5").oneErrorLine()
                .contains("--address none leaves the device as it is: leave --address6 out"));
    }

    @Test
    void offloadTakesBothModes() {
        assertTrue(EchoOptions.parse("native", "--offload").offload);
        EchoOptions tap = EchoOptions.parse("native", "--mode", "tap", "--offload");
        assertTrue(tap.offload);
        assertEquals(org.tuntap.transport.TunMode.TAP, tap.mode);
    }

    @Test
    void address6DefaultsToADocumentationAddressAndTheEchoToTheNextOne() {
        EchoOptions tun = EchoOptions.parse("native");
        assertEquals(literal("2001:db8::1"), tun.address6);
        assertEquals(64, tun.prefixLength6);
        assertEquals(literal("2001:db8::2"), tun.echoAddress6);
        assertEquals(literal("2001:db8::1"), EchoOptions.parse("native", "--mode", "tap").address6, "TAP too");

        EchoOptions mine = EchoOptions.parse("native", "--address6", "2001:db8:1::ffff/48");
        assertEquals(literal("2001:db8:1::ffff"), mine.address6);
        assertEquals(48, mine.prefixLength6);
        assertEquals(literal("2001:db8:1::1:0"), mine.echoAddress6, "+ 1, with the carry");
        assertEquals(literal("2001:db8::9"), EchoOptions.parse("--echo-address6", "2001:db8::9").echoAddress6);

        EchoOptions none = EchoOptions.parse("native", "--address6", "none", "--mtu", "576");
        assertEquals(null, none.address6, "none: no IPv6 address, and an MTU below 1280 is fine");
        assertEquals(null, EchoOptions.parse("native", "--address", "none", "--name", "tun0").address6,
                "--address none leaves the device as it is, IPv6 included");
        assertTrue(EchoOptions.USAGE.contains("default 2001:db8::1/64"), EchoOptions.USAGE);
    }

    private static java.net.InetAddress literal(String text) {
        try {
            return java.net.InetAddress.getByName(text);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void anUnwritableCaptureFileIsOneLineAndStatus1() {
        Run run = Run.of("memory", "--pcap", "/nonexistent-directory/echo.pcap");
        assertEquals(UdpEchoApp.EXIT_FAILED, run.status());
        String line = run.oneErrorLine();
        assertTrue(line.contains("cannot write the --pcap file: /nonexistent-directory/echo.pcap"), line);
        assertEquals("", run.out(), "nothing ran");
    }

    @Test
    void helpGoesToStdoutWithStatus0() {
        Run run = Run.of("--help");
        assertEquals(0, run.status());
        assertTrue(run.out().startsWith("usage: udp-echo"), run.out());
        assertEquals("", run.err());
    }

    /** Counts the records of a big-endian pcap file (as Netty's PcapWriteHandler writes it). */
    private static int pcapRecords(byte[] capture) {
        ByteBuffer file = ByteBuffer.wrap(capture);
        assertEquals(0xa1b2c3d4, file.getInt(0), "pcap magic");
        int records = 0;
        for (int at = 24; at < capture.length; records++) {
            int captured = file.getInt(at + 8);
            at += 16 + captured;
            assertTrue(at <= capture.length, "record " + records + " fits the file");
        }
        return records;
    }
}
