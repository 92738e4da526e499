from . import support

cast = support.cast
simulator_server = support.simulator_server
simulator = support.simulator
simulator_time = support.simulator_time
