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
            assertTrue(run.out().contains("3 of 3 datagrams echoed"), run.out());
            assertEquals(mode.equals("tap") ? 8 : 6, pcapRecords(Files.readAllBytes(pcap.toPath())),
                    "[on TAP the network's ARP request and the echo's reply,] 3 datagrams in, 3 echoes out");
        } finally {
            Files.deleteIfExists(pcap.toPath());
        }
    }

    @Test
    void theTotalsNameEveryLayersDrops() {
        Run tapWithPi = Run.of("--mode", "tap", "--pi");
        assertTrue(tapWithPi.out().contains("3 of 3 datagrams echoed; dropped by PI 0, Ethernet 0, ARP 0, IPv6 0, IPv4 0, UDP 0, ICMP 0"),
                tapWithPi.out());
        Run tun = Run.of("--mode", "tun");
        assertTrue(tun.out().contains("3 of 3 datagrams echoed; dropped by IPv6 0, IPv4 0, UDP 0, ICMP 0"), tun.out());
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
            "--mode tan", "--frobnicate", "native --raw --mode tap",
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
