package org.tuntap.testkit.contract;

/** The channel contract on the in-memory layer, on a threaded {@code MemoryIoHandler} loop. */
class MemoryTunChannelContractTest extends TunChannelContractTest {
    @Override
    protected TunFixture newFixture() {
        return new MemoryTunFixture();
    }
}
